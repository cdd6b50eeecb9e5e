import { NotFound } from '../components/States';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { LinkButton } from '../components/LinkButton';
import { useI18n } from '../i18n/I18nProvider';

export function NotFoundPage({ home = '/' }: { home?: string }) {
  const { t } = useI18n();
  useDocumentTitle(t('error.notFoundTitle'));
  return (
    <div className="full-page-center">
      <NotFound
        extra={
          <LinkButton type="primary" to={home}>
            {t('error.goHome')}
          </LinkButton>
        }
      />
    </div>
  );
}
