import { PictureOutlined } from '@ant-design/icons';
import { Tag } from 'antd';
import { imageURL } from '../../api/catalog';
import type { Product, ProductStatus, Text } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';

export function StatusTag({ status }: { status: ProductStatus }) {
  const { t } = useI18n();
  const color = status === 'published' ? 'success' : status === 'archived' ? 'default' : 'processing';
  return (
    <Tag color={color} bordered={false} data-testid="product-status" data-status={status}>
      {t(`product.status.${status}`)}
    </Tag>
  );
}

/** The text of a localised value in the console's language, else the other one. */
export function useLocalText(): (v: Text | undefined) => string {
  const { locale } = useI18n();
  return (v) => {
    if (!v) return '';
    return v[locale] || v.en || v['zh-CN'] || Object.values(v)[0] || '';
  };
}

/** A product's title in the console's language, else the other. */
export function useProductTitle(): (p: Pick<Product, 'content'>) => string {
  const { locale, t } = useI18n();
  return (p) => p.content[locale]?.title || p.content.en?.title || p.content['zh-CN']?.title || t('product.untitled');
}

export function Thumb({ slug, hash, size = 40 }: { slug: string; hash?: string | undefined; size?: number }) {
  return (
    <span className="thumb" style={{ width: size, height: size }}>
      {hash ? <img src={imageURL(slug, hash)} alt="" loading="lazy" /> : <PictureOutlined />}
    </span>
  );
}
