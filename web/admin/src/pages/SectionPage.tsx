import { Card, Empty, Tag, Typography } from 'antd';
import { useShop } from '../auth/ShopContext';
import { PageHeader } from '../components/PageHeader';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { useI18n } from '../i18n/I18nProvider';
import type { Section } from '../layout/sections';

/** A section that is not built yet: its purpose, and a clean "coming soon". */
export function ComingSoonPage({ section }: { section: Section & { key: Exclude<Section['key'], 'home'> } }) {
  const { t } = useI18n();
  const { shop } = useShop();
  const title = t(`nav.${section.key}`);
  useDocumentTitle(title, shop.name);
  return (
    <>
      <PageHeader title={title} icon={section.icon} subtitle={t(`section.${section.key}`)} />
      <Card className="coming-soon" data-testid="coming-soon">
        <Empty
          image={<span className="coming-soon-icon">{section.icon}</span>}
          styles={{ image: { height: 'auto' } }}
          description={
            <div className="coming-soon-text">
              <Tag color="processing" bordered={false}>
                {t('common.comingSoon')}
              </Tag>
              <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0', maxWidth: 440 }}>
                {t('section.comingSoonText')}
              </Typography.Paragraph>
            </div>
          }
        />
      </Card>
    </>
  );
}
