import {
  AppstoreOutlined,
  ArrowLeftOutlined,
  CheckCircleFilled,
  CopyOutlined,
  DeleteOutlined,
  ExclamationCircleFilled,
  InboxOutlined,
  PlusOutlined,
  RocketOutlined,
  SaveOutlined,
  StarOutlined,
  UndoOutlined,
} from '@ant-design/icons';
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Col,
  Empty,
  Input,
  InputNumber,
  Popconfirm,
  Row,
  Select,
  Space,
  Table,
  Tooltip,
  Typography,
  Upload,
} from 'antd';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { useNavigate, useParams } from 'react-router';
import { isApiError } from '../../api/client';
import { imageURL, uploadImage, useCategories, useProduct, useSaveProduct, useSaveSKUs, useSetProductStatus, useTaxRates } from '../../api/catalog';
import type { Content, Option, Problem, Product, ProductInput, SKU, SKUEdit } from '../../api/types';
import { useShop } from '../../auth/ShopContext';
import { errorField } from '../../components/formErrors';
import { LinkButton } from '../../components/LinkButton';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState, QueryState, useErrorMessage } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import type { MessageKey } from '../../i18n/en';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { StatusTag, useLocalText, useProductTitle } from './common';

const LOCALES = ['en', 'zh-CN'] as const;
const emptyContent = (): Content => ({ title: '', subtitle: '', description: '' });

function inputOf(p?: Product): ProductInput {
  return {
    category_id: p?.category_id ?? null,
    brand: p?.brand ?? '',
    tags: p?.tags ?? [],
    sort: p?.sort ?? 0,
    content: { en: { ...emptyContent(), ...p?.content.en }, 'zh-CN': { ...emptyContent(), ...p?.content['zh-CN'] } },
    options: p?.options ?? [],
    images: (p?.images ?? []).map((i) => ({ hash: i.hash, ...(i.alt ? { alt: i.alt } : {}) })),
  };
}

/** The body of PUT/POST product: languages left blank are not sent. */
function cleaned(v: ProductInput): ProductInput {
  const content: Record<string, Content> = {};
  for (const [loc, c] of Object.entries(v.content)) {
    if (c.title.trim() || c.subtitle.trim() || c.description.trim()) content[loc] = c;
  }
  const text = (x: Record<string, string>) => Object.fromEntries(Object.entries(x).filter(([, s]) => s.trim() !== ''));
  return {
    ...v,
    content,
    options: v.options.map((o) => ({ name: text(o.name), values: o.values.map(text) })),
  };
}

function editOf(k: SKU): SKUEdit {
  return {
    id: k.id,
    code: k.code,
    barcode: k.barcode,
    price: k.price,
    compare_at_price: k.compare_at_price,
    weight_g: k.weight_g,
    hs_code: k.hs_code,
    origin_country: k.origin_country,
    gname: k.gname,
    gmodel: k.gmodel,
    unit: k.unit,
    legal_unit1: k.legal_unit1,
    legal_qty1: k.legal_qty1,
    legal_unit2: k.legal_unit2,
    legal_qty2: k.legal_qty2,
    net_weight_g: k.net_weight_g,
    gross_weight_g: k.gross_weight_g,
    item_record_no: k.item_record_no,
    trade_mode: k.trade_mode || '1210',
    tax_category: k.tax_category || 'general',
    positive_list: k.positive_list,
  };
}

/** The cross-border fields "copy to all" carries from the first SKU. */
const CUSTOMS_FIELDS = [
  'hs_code', 'origin_country', 'gname', 'gmodel', 'unit', 'legal_unit1', 'legal_qty1', 'net_weight_g', 'gross_weight_g',
  'item_record_no', 'trade_mode', 'tax_category', 'positive_list',
] as const;

/** Inline checks of a SKU, the same rules as the server's; null when fine. */
function skuProblem(k: SKUEdit, field: keyof SKUEdit): MessageKey | null {
  switch (field) {
    case 'code':
      return /^[A-Za-z0-9._/-]{1,64}$/.test(k.code.trim()) ? null : 'sku.err.code';
    case 'price':
      return k.price >= 0 ? null : 'sku.err.price';
    case 'compare_at_price':
      return k.compare_at_price == null || k.compare_at_price > k.price ? null : 'sku.err.compareAt';
    case 'hs_code':
      return k.hs_code === '' || /^[0-9]{10}$/.test(k.hs_code) ? null : 'sku.err.hs';
    case 'origin_country':
      return k.origin_country === '' || /^[0-9]{3}$/.test(k.origin_country) ? null : 'sku.err.code3';
    case 'unit':
      return k.unit === '' || /^[0-9]{3}$/.test(k.unit) ? null : 'sku.err.code3';
    case 'legal_unit1':
      return k.legal_unit1 === '' || /^[0-9]{3}$/.test(k.legal_unit1) ? null : 'sku.err.code3';
    case 'legal_qty1':
      return k.legal_qty1 == null || k.legal_qty1 > 0 ? null : 'sku.err.positive';
    case 'gross_weight_g':
      return k.gross_weight_g == null || k.net_weight_g == null || k.gross_weight_g >= k.net_weight_g ? null : 'sku.err.gross';
    case 'gname':
    case 'gmodel':
      return String(k[field]).length <= 250 ? null : 'sku.err.long';
    default:
      return null;
  }
}

export function ProductEditorPage() {
  const { id } = useParams();
  const { t } = useI18n();
  const { shop } = useShop();
  const productId = id && id !== 'new' ? Number(id) : null;
  const product = useProduct(shop.slug, productId !== null && Number.isFinite(productId) ? productId : null);
  useDocumentTitle(productId === null ? t('catalog.newProduct') : t('product.edit'), shop.name);
  if (productId === null) return <Editor key="new" />;
  return (
    <QueryState query={product} variant="page">
      {(p) => <Editor key={p.id} product={p} />}
    </QueryState>
  );
}

function Editor({ product }: { product?: Product }) {
  const { t, money } = useI18n();
  const { shop, can } = useShop();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const errorMessage = useErrorMessage();
  const titleOf = useProductTitle();
  const localText = useLocalText();
  const readOnly = !can('catalog:write');
  const categories = useCategories(shop.slug);
  const taxRates = useTaxRates(shop.slug);
  const saveProduct = useSaveProduct(shop.slug);
  const saveSKUs = useSaveSKUs(shop.slug);
  const setStatus = useSetProductStatus(shop.slug);

  const [value, setValue] = useState<ProductInput>(() => inputOf(product));
  const [dirty, setDirty] = useState(false);
  const [skus, setSkus] = useState<SKUEdit[]>(() => (product?.skus ?? []).filter((k) => !k.archived_at).map(editOf));
  const [skusDirty, setSkusDirty] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [publishProblems, setPublishProblems] = useState<Problem[] | null>(null);
  const [uploading, setUploading] = useState(0);

  // A fresh copy from the server (after a save) replaces the edited state.
  useEffect(() => {
    if (!product) return;
    setValue(inputOf(product));
    setSkus((product.skus ?? []).filter((k) => !k.archived_at).map(editOf));
    setDirty(false);
    setSkusDirty(false);
  }, [product]);

  const edit = (f: (v: ProductInput) => ProductInput) => {
    setValue((v) => f(structuredClone(v)));
    setDirty(true);
  };
  const editSKU = (i: number, patch: Partial<SKUEdit>) => {
    setSkus((ks) => ks.map((k, j) => (j === i ? { ...k, ...patch } : k)));
    setSkusDirty(true);
  };

  const skuErrors = useMemo(() => {
    const out = new Map<string, MessageKey>();
    skus.forEach((k, i) => {
      for (const f of ['code', 'price', 'compare_at_price', 'hs_code', 'origin_country', 'unit', 'legal_unit1', 'legal_qty1', 'gross_weight_g', 'gname', 'gmodel'] as const) {
        const p = skuProblem(k, f);
        if (p) out.set(`${i}.${f}`, p);
      }
    });
    return out;
  }, [skus]);
  const serverField = errorField(error);
  const optionsChanged = !!product && JSON.stringify(cleaned(value).options) !== JSON.stringify(product.options);

  const save = async () => {
    setError(null);
    setPublishProblems(null);
    try {
      let p = product;
      if (!p || dirty) {
        p = await saveProduct.mutateAsync({ id: p?.id ?? null, body: cleaned(value) });
        if (!product) {
          void message.success(t('product.created'));
          void navigate(shopPath(shop.slug, `catalog/${p.id}`), { replace: true });
          return;
        }
      }
      if (skusDirty && !optionsChanged && skus.length) {
        await saveSKUs.mutateAsync({ id: p.id, skus: skus.map((k) => ({ ...k, code: k.code.trim() })) });
      }
      void message.success(t('common.saved'));
    } catch (e) {
      setError(e);
    }
  };

  const changeStatus = (action: 'publish' | 'unpublish' | 'archive') => {
    if (!product) return;
    setError(null);
    setPublishProblems(null);
    setStatus.mutate(
      { id: product.id, action },
      {
        onSuccess: () => void message.success(t(`product.${action}Done`)),
        onError: (e) => {
          if (isApiError(e) && e.code === 'not_publishable' && Array.isArray(e.details)) setPublishProblems(e.details as Problem[]);
          else setError(e);
        },
      },
    );
  };

  const busy = saveProduct.isPending || saveSKUs.isPending || setStatus.isPending || uploading > 0;
  const checklist = publishProblems ?? product?.checklist ?? [];
  const heading = product ? titleOf(product) : t('catalog.newProduct');

  const addImages = async (file: File) => {
    setUploading((n) => n + 1);
    try {
      const img = await uploadImage(shop.slug, file);
      edit((v) => {
        if (!v.images.some((i) => i.hash === img.hash)) v.images.push({ hash: img.hash });
        return v;
      });
    } catch (e) {
      void message.error(errorMessage(e));
    } finally {
      setUploading((n) => n - 1);
    }
  };

  return (
    <div className="product-editor">
      <PageHeader
        title={heading}
        icon={<AppstoreOutlined />}
        tags={product && <span className="page-header-tags"><StatusTag status={product.status} /></span>}
        subtitle={product ? t('product.subtitle', { skus: skus.length, price: product.min_price == null ? '—' : money(product.min_price) }) : t('product.newSubtitle')}
        extra={
          <Space wrap>
            <LinkButton icon={<ArrowLeftOutlined />} to={shopPath(shop.slug, 'catalog')}>
              {t('catalog.backToList')}
            </LinkButton>
            {!readOnly && (
              <Button type={product?.status === 'published' || !product ? 'primary' : 'default'} icon={<SaveOutlined />} onClick={() => void save()} loading={saveProduct.isPending || saveSKUs.isPending} disabled={busy || skuErrors.size > 0 || (!!product && !dirty && !skusDirty)} data-testid="save-product">
                {product ? t('common.save') : t('product.create')}
              </Button>
            )}
            {!readOnly && product && product.status !== 'published' && (
              <Button type="primary" icon={<RocketOutlined />} onClick={() => changeStatus('publish')} loading={setStatus.isPending} disabled={busy || dirty || skusDirty} data-testid="publish-product">
                {t('product.publish')}
              </Button>
            )}
            {!readOnly && product?.status === 'published' && (
              <Button icon={<UndoOutlined />} onClick={() => changeStatus('unpublish')} disabled={busy}>
                {t('product.unpublish')}
              </Button>
            )}
            {!readOnly && product && product.status !== 'archived' && (
              <Popconfirm title={t('product.archiveConfirm')} onConfirm={() => changeStatus('archive')} okText={t('product.archive')} cancelText={t('common.cancel')}>
                <Button icon={<InboxOutlined />} disabled={busy}>
                  {t('product.archive')}
                </Button>
              </Popconfirm>
            )}
          </Space>
        }
      />
      {readOnly && <Alert type="info" showIcon className="form-alert" message={t('product.readOnly')} />}
      {error ? (
        <div className="form-alert">
          <ErrorState error={error} variant="inline" title={t('product.saveFailed')} />
        </div>
      ) : null}
      <Row gutter={[20, 20]}>
        <Col xs={24} xl={17}>
          <Card title={t('product.content')} className="editor-card" extra={<Typography.Text type="secondary">{t('product.contentHint')}</Typography.Text>}>
            <div className="bilingual">
              {LOCALES.map((loc) => (
                <div key={loc} className="bilingual-col" data-testid={`content-${loc}`}>
                  <div className="bilingual-head">
                    <span className="lang-badge">{loc === 'en' ? 'EN' : '中'}</span>
                    <Typography.Text strong>{loc === 'en' ? 'English' : '简体中文'}</Typography.Text>
                    {loc === 'zh-CN' && <Typography.Text type="secondary" className="bilingual-req">{t('product.zhRequired')}</Typography.Text>}
                  </div>
                  <label className="field-label" htmlFor={`title-${loc}`}>{t('product.title')}</label>
                  <Input
                    id={`title-${loc}`}
                    data-testid={`title-${loc}`}
                    value={value.content[loc]?.title}
                    disabled={readOnly}
                    maxLength={120}
                    status={serverField === `content.${loc}.title` ? 'error' : undefined}
                    onChange={(e) => edit((v) => ({ ...v, content: { ...v.content, [loc]: { ...v.content[loc]!, title: e.target.value } } }))}
                  />
                  <label className="field-label" htmlFor={`subtitle-${loc}`}>{t('product.subtitleField')}</label>
                  <Input
                    id={`subtitle-${loc}`}
                    data-testid={`subtitle-${loc}`}
                    value={value.content[loc]?.subtitle}
                    disabled={readOnly}
                    maxLength={200}
                    onChange={(e) => edit((v) => ({ ...v, content: { ...v.content, [loc]: { ...v.content[loc]!, subtitle: e.target.value } } }))}
                  />
                  <label className="field-label" htmlFor={`description-${loc}`}>{t('product.description')}</label>
                  <Input.TextArea
                    id={`description-${loc}`}
                    data-testid={`description-${loc}`}
                    value={value.content[loc]?.description}
                    disabled={readOnly}
                    autoSize={{ minRows: 4, maxRows: 10 }}
                    onChange={(e) => edit((v) => ({ ...v, content: { ...v.content, [loc]: { ...v.content[loc]!, description: e.target.value } } }))}
                  />
                </div>
              ))}
            </div>
          </Card>

          <Card title={t('product.options')} className="editor-card" extra={<Typography.Text type="secondary">{t('product.optionsHint')}</Typography.Text>}>
            <OptionsEditor options={value.options} readOnly={readOnly} onChange={(options) => edit((v) => ({ ...v, options }))} />
            {optionsChanged && (
              <Typography.Paragraph type="secondary" className="options-note">
                {t('product.optionsSaveNote')}
              </Typography.Paragraph>
            )}
          </Card>

        </Col>

        <Col xs={24} xl={7}>
          <div className="editor-side">
            {product && (
              <Card title={t('product.checklist')} className="editor-card checklist-panel" data-testid="publish-checklist">
                {checklist.length === 0 ? (
                  <div className="checklist-ready">
                    <CheckCircleFilled /> {product.status === 'published' ? t('product.isPublished') : t('product.ready')}
                  </div>
                ) : (
                  <>
                    <Typography.Paragraph type="secondary">{t('product.missing', { count: checklist.length })}</Typography.Paragraph>
                    <ProblemList problems={checklist} />
                  </>
                )}
              </Card>
            )}
            <Card title={t('product.images')} className="editor-card">
              {value.images.length > 0 && (
                <div className="image-grid" data-testid="product-images">
                  {value.images.map((im, i) => (
                    <div key={im.hash} className={`image-tile${i === 0 ? ' image-tile-main' : ''}`}>
                      <img src={imageURL(shop.slug, im.hash)} alt="" />
                      {i === 0 && <span className="image-main-badge">{t('product.mainImage')}</span>}
                      {!readOnly && (
                        <div className="image-actions">
                          {i > 0 && (
                            <Tooltip title={t('product.makeMain')}>
                              <Button size="small" shape="circle" icon={<StarOutlined />} onClick={() => edit((v) => { const [x] = v.images.splice(i, 1); v.images.unshift(x!); return v; })} />
                            </Tooltip>
                          )}
                          <Tooltip title={t('common.remove')}>
                            <Button size="small" shape="circle" danger icon={<DeleteOutlined />} onClick={() => edit((v) => { v.images.splice(i, 1); return v; })} />
                          </Tooltip>
                        </div>
                      )}
                    </div>
                  ))}
                </div>
              )}
              {!readOnly && (
                <Upload.Dragger
                  multiple
                  accept="image/png,image/jpeg,image/webp,image/gif"
                  showUploadList={false}
                  beforeUpload={(f) => {
                    void addImages(f);
                    return false;
                  }}
                  className="image-drop"
                  data-testid="image-drop"
                >
                  <p className="ant-upload-drag-icon">
                    <InboxOutlined />
                  </p>
                  <p className="ant-upload-text">{uploading ? t('common.uploading') : t('product.dropImages')}</p>
                  <p className="ant-upload-hint">{t('product.dropImagesHint')}</p>
                </Upload.Dragger>
              )}
              {readOnly && value.images.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('product.noImages')} />}
            </Card>
            <Card title={t('product.organisation')} className="editor-card">
              <label className="field-label">{t('product.category')}</label>
              <Select
                allowClear
                style={{ width: '100%' }}
                placeholder={t('product.noCategory')}
                value={value.category_id ?? undefined}
                disabled={readOnly}
                loading={categories.isPending}
                options={(categories.data ?? []).map((c) => ({ value: c.id, label: localText(c.name) }))}
                onChange={(v: number | undefined) => edit((x) => ({ ...x, category_id: v ?? null }))}
                data-testid="product-category"
              />
              <label className="field-label">{t('product.brand')}</label>
              <Input value={value.brand} disabled={readOnly} maxLength={120} onChange={(e) => edit((v) => ({ ...v, brand: e.target.value }))} data-testid="product-brand" />
              <label className="field-label">{t('product.tags')}</label>
              <Select mode="tags" style={{ width: '100%' }} value={value.tags} disabled={readOnly} onChange={(tags: string[]) => edit((v) => ({ ...v, tags }))} tokenSeparators={[',']} />
            </Card>
          </div>
        </Col>
      </Row>
      <Card
        title={t('product.skus')}
        className="editor-card sku-card"
        extra={
          product && !readOnly && skus.length > 1 ? (
            <Button size="small" icon={<CopyOutlined />} onClick={() => { setSkus((ks) => ks.map((k, i) => (i === 0 ? k : { ...k, ...Object.fromEntries(CUSTOMS_FIELDS.map((f) => [f, ks[0]![f]])) }))); setSkusDirty(true); }} data-testid="copy-customs">
              {t('sku.copyCustoms')}
            </Button>
          ) : null
        }
      >
        {!product ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('sku.afterCreate')} />
        ) : optionsChanged ? (
          <Alert type="info" showIcon message={t('sku.saveFirst')} />
        ) : (
          <SkuTable
            options={product.options}
            skus={skus}
            original={product.skus ?? []}
            readOnly={readOnly}
            errors={skuErrors}
            serverField={serverField}
            taxCategories={taxRates.data ?? []}
            onChange={editSKU}
          />
        )}
      </Card>
      {!readOnly && (dirty || skusDirty) && (
        <div className="unsaved-bar">
          <ExclamationCircleFilled /> {t('product.unsaved')}
          <Button type="primary" size="small" onClick={() => void save()} loading={busy} disabled={skuErrors.size > 0}>
            {t('common.save')}
          </Button>
        </div>
      )}
    </div>
  );
}

/** The server's checklist, one line per missing thing with the SKUs it concerns. */
export function ProblemList({ problems }: { problems: Problem[] }) {
  const { tMaybe } = useI18n();
  const groups = new Map<string, { p: Problem; skus: string[] }>();
  for (const p of problems) {
    const g = groups.get(p.field) ?? { p, skus: [] };
    if (p.sku) g.skus.push(p.sku);
    groups.set(p.field, g);
  }
  return (
    <ul className="problem-list">
      {[...groups.entries()].map(([field, g]) => (
        <li key={field} data-field={field}>
          <ExclamationCircleFilled className="problem-icon" />
          <div>
            <div>{tMaybe(`problem.${field}`, g.p.message)}</div>
            {g.skus.length > 0 && (
              <div className="problem-skus">
                {g.skus.map((k) => (
                  <span key={k} className="mono problem-sku">
                    {k}
                  </span>
                ))}
              </div>
            )}
          </div>
        </li>
      ))}
    </ul>
  );
}

function OptionsEditor({ options, readOnly, onChange }: { options: Option[]; readOnly: boolean; onChange: (o: Option[]) => void }) {
  const { t } = useI18n();
  const set = (f: (o: Option[]) => void) => {
    const next = structuredClone(options);
    f(next);
    onChange(next);
  };
  if (options.length === 0 && readOnly) return <Typography.Text type="secondary">{t('product.noOptions')}</Typography.Text>;
  return (
    <div className="options-editor">
      {options.map((o, i) => (
        <div key={i} className="option-block" data-testid={`option-${i}`}>
          <div className="option-head">
            <span className="option-index">{i + 1}</span>
            <Input addonBefore="EN" placeholder={t('product.optionNameEn')} value={o.name.en ?? ''} disabled={readOnly} onChange={(e) => set((x) => { x[i]!.name.en = e.target.value; })} data-testid={`option-${i}-name-en`} />
            <Input addonBefore="中" placeholder={t('product.optionNameZh')} value={o.name['zh-CN'] ?? ''} disabled={readOnly} onChange={(e) => set((x) => { x[i]!.name['zh-CN'] = e.target.value; })} data-testid={`option-${i}-name-zh-CN`} />
            {!readOnly && <Button type="text" danger icon={<DeleteOutlined />} onClick={() => set((x) => { x.splice(i, 1); })} aria-label={t('product.removeOption')} />}
          </div>
          <div className="option-values">
            {o.values.map((v, j) => (
              <div key={j} className="option-value" data-testid={`option-${i}-value-${j}`}>
                <Input size="small" addonBefore="EN" value={v.en ?? ''} disabled={readOnly} onChange={(e) => set((x) => { x[i]!.values[j]!.en = e.target.value; })} data-testid={`option-${i}-value-${j}-en`} />
                <Input size="small" addonBefore="中" value={v['zh-CN'] ?? ''} disabled={readOnly} onChange={(e) => set((x) => { x[i]!.values[j]!['zh-CN'] = e.target.value; })} data-testid={`option-${i}-value-${j}-zh-CN`} />
                {!readOnly && <Button size="small" type="text" icon={<DeleteOutlined />} onClick={() => set((x) => { x[i]!.values.splice(j, 1); })} aria-label={t('common.remove')} />}
              </div>
            ))}
            {!readOnly && o.values.length < 30 && (
              <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={() => set((x) => { x[i]!.values.push({ en: '', 'zh-CN': '' }); })} data-testid={`option-${i}-add-value`}>
                {t('product.addValue')}
              </Button>
            )}
          </div>
        </div>
      ))}
      {!readOnly && options.length < 3 && (
        <Button type="dashed" icon={<PlusOutlined />} onClick={() => set((x) => { x.push({ name: { en: '', 'zh-CN': '' }, values: [{ en: '', 'zh-CN': '' }] }); })} data-testid="add-option">
          {t('product.addOption')}
        </Button>
      )}
    </div>
  );
}

function SkuTable({
  options,
  skus,
  original,
  readOnly,
  errors,
  serverField,
  taxCategories,
  onChange,
}: {
  options: Option[];
  skus: SKUEdit[];
  original: SKU[];
  readOnly: boolean;
  errors: Map<string, MessageKey>;
  serverField: string | undefined;
  taxCategories: { category: string; rate: string }[];
  onChange: (i: number, patch: Partial<SKUEdit>) => void;
}) {
  const { t, tMaybe, money } = useI18n();
  const localText = useLocalText();
  const byId = new Map(original.map((k) => [k.id, k]));
  // SKUs name their values by the English text (the key); show them in the console's language.
  const variantName = (vals: string[]) =>
    vals
      .map((v, i) => {
        const key = (x: Record<string, string>) => (x.en?.trim() || x['zh-CN']?.trim() || '').toLowerCase();
        const found = options[i]?.values.find((x) => key(x) === v.toLowerCase());
        return found ? localText(found) : v;
      })
      .join(' / ');
  const cellStatus = (i: number, f: string) => (errors.has(`${i}.${f}`) || serverField === `skus[${i}].${f}` ? 'error' : undefined);
  const tip = (i: number, f: string, node: ReactNode) => {
    const e = errors.get(`${i}.${f}`);
    return e ? (
      <Tooltip title={t(e)} open={undefined} color="#dc2626">
        <span className="cell-invalid" data-testid={`sku-${i}-${f}-error`}>{node}</span>
      </Tooltip>
    ) : (
      node
    );
  };
  const text = (f: keyof SKUEdit, width: number, placeholder?: string) => ({
    title: t(`sku.col.${f}` as MessageKey),
    key: f,
    width,
    render: (_: unknown, k: SKUEdit, i: number) =>
      tip(
        i,
        f,
        <Input
          size="small"
          value={(k[f] as string) ?? ''}
          disabled={readOnly}
          placeholder={placeholder}
          status={cellStatus(i, f)}
          className={f === 'gname' || f === 'gmodel' ? undefined : 'mono'}
          onChange={(e) => onChange(i, { [f]: e.target.value } as Partial<SKUEdit>)}
          data-testid={`sku-${i}-${f}`}
        />,
      ),
  });
  const num = (f: 'legal_qty1' | 'net_weight_g' | 'gross_weight_g', width: number) => ({
    title: t(`sku.col.${f}` as MessageKey),
    key: f,
    width,
    render: (_: unknown, k: SKUEdit, i: number) =>
      tip(
        i,
        f,
        <InputNumber
          size="small"
          value={k[f]}
          min={0}
          disabled={readOnly}
          status={cellStatus(i, f)}
          style={{ width: '100%' }}
          precision={f === 'legal_qty1' ? 3 : 0}
          onChange={(v) => onChange(i, { [f]: v === null ? null : Number(v) } as Partial<SKUEdit>)}
          data-testid={`sku-${i}-${f}`}
        />,
      ),
  });
  const yuan = (f: 'price' | 'compare_at_price', width: number) => ({
    title: t(`sku.col.${f}`),
    key: f,
    width,
    render: (_: unknown, k: SKUEdit, i: number) =>
      tip(
        i,
        f,
        <InputNumber
          size="small"
          prefix="¥"
          min={0}
          step={1}
          precision={2}
          value={k[f] == null ? null : k[f]! / 100}
          disabled={readOnly}
          status={cellStatus(i, f)}
          style={{ width: '100%' }}
          onChange={(v) => onChange(i, { [f]: v === null ? (f === 'price' ? 0 : null) : Math.round(Number(v) * 100) } as Partial<SKUEdit>)}
          data-testid={`sku-${i}-${f}`}
        />,
      ),
  });

  return (
    <Table<SKUEdit>
      size="small"
      rowKey="id"
      className="sku-table"
      data-testid="sku-table"
      pagination={false}
      dataSource={skus}
      scroll={{ x: 2300 }}
      sticky
      columns={[
        {
          title: t('sku.col.variant'),
          key: 'variant',
          fixed: 'left',
          width: 170,
          render: (_, k) => {
            const o = byId.get(k.id);
            return <span className="sku-variant">{o?.option_values.length ? variantName(o.option_values) : t('sku.default')}</span>;
          },
        },
        {
          title: t('sku.group.pricing'),
          key: 'pricing',
          className: 'col-group',
          children: [
        text('code', 130),
        yuan('price', 120),
        {
          title: (
            <Tooltip title={t('sku.landedHelp')}>
              <span className="th-help">{t('sku.col.landed')}</span>
            </Tooltip>
          ),
          key: 'landed',
          width: 150,
          render: (_, k) => {
            const o = byId.get(k.id);
            if (!o?.landed) return '—';
            const stale = o.price !== k.price || o.tax_category !== k.tax_category;
            return (
              <span className={`landed${stale ? ' landed-stale' : ''}`} data-testid="sku-landed">
                <Typography.Text strong>{money(o.landed.total)}</Typography.Text>
                <Typography.Text type="secondary" className="landed-tax">
                  {t('sku.tax', { tax: money(o.landed.tax), rate: o.landed.tax_rate })}
                </Typography.Text>
              </span>
            );
          },
        },
        yuan('compare_at_price', 120),
          ],
        },
        {
          title: t('sku.group.customs'),
          key: 'customs',
          className: 'col-group',
          children: [
        text('hs_code', 130, '3304990099'),
        text('origin_country', 90, '330'),
        text('gname', 170),
        text('gmodel', 200),
        text('unit', 80, '007'),
        text('legal_unit1', 90, '035'),
        num('legal_qty1', 100),
        num('net_weight_g', 100),
        num('gross_weight_g', 100),
        {
          title: t('sku.col.trade_mode'),
          key: 'trade_mode',
          width: 140,
          render: (_, k, i) => (
            <Select
              size="small"
              value={k.trade_mode}
              disabled={readOnly}
              style={{ width: '100%' }}
              options={[
                { value: '1210', label: t('tradeMode.1210') },
                { value: '9610', label: t('tradeMode.9610') },
              ]}
              onChange={(v: string) => onChange(i, { trade_mode: v })}
            />
          ),
        },
        text('item_record_no', 150),
        {
          title: t('sku.col.tax_category'),
          key: 'tax_category',
          width: 190,
          render: (_, k, i) => (
            <Select
              size="small"
              value={k.tax_category}
              disabled={readOnly}
              style={{ width: '100%' }}
              options={(taxCategories.length ? taxCategories : [{ category: 'general', rate: '' }]).map((c) => ({
                value: c.category,
                label: `${tMaybe(`tax.${c.category}`, c.category)}${c.rate ? ` · ${c.rate}` : ''}`,
              }))}
              onChange={(v: string) => onChange(i, { tax_category: v })}
              data-testid={`sku-${i}-tax_category`}
            />
          ),
        },
        {
          title: (
            <Tooltip title={t('sku.positiveListHelp')}>
              <span className="th-help">{t('sku.col.positive_list')}</span>
            </Tooltip>
          ),
          key: 'positive_list',
          width: 110,
          align: 'center',
          render: (_, k, i) => (
            <Checkbox checked={k.positive_list} disabled={readOnly} onChange={(e) => onChange(i, { positive_list: e.target.checked })} data-testid={`sku-${i}-positive_list`} />
          ),
        },
          ],
        },
      ]}
    />
  );
}
