// The forms of the shop's setup, shared by the onboarding wizard and the
// settings page: company details, shop profile, Mini Program, WeChat Pay,
// customs and warehouses. Each saves through the API and shows its refusal
// next to the field the server names.
import {
  CheckCircleFilled,
  ClockCircleOutlined,
  CloseCircleFilled,
  DeleteOutlined,
  FileProtectOutlined,
  InboxOutlined,
  SafetyCertificateOutlined,
  UploadOutlined,
} from '@ant-design/icons';
import {
  Alert,
  App,
  Button,
  Checkbox,
  Col,
  Descriptions,
  Form,
  Input,
  Radio,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Typography,
  Upload,
} from 'antd';
import { useMemo, useState, type ReactNode } from 'react';
import { imageURL, uploadImage, useCreateWarehouse, useWarehouses } from '../../api/catalog';
import { useSaveCredentials, useVerifyCredentials } from '../../api/credentials';
import { profileInput, useSaveProfile } from '../../api/profile';
import type { CredentialSet, CredentialsOverview, Profile, Verification } from '../../api/types';
import { useShop } from '../../auth/ShopContext';
import { showFieldError } from '../../components/formErrors';
import { ErrorState, QueryState, useErrorMessage } from '../../components/States';
import type { MessageKey } from '../../i18n/en';
import { useI18n } from '../../i18n/I18nProvider';

/** Renders the buttons under a form; `submitting` while the save runs. */
export type Footer = (submitting: boolean) => ReactNode;

export const COUNTRIES = [
  'SE', 'DK', 'NO', 'FI', 'IS', 'DE', 'FR', 'IT', 'ES', 'PT', 'NL', 'BE', 'LU', 'CH', 'AT', 'IE', 'GB', 'PL', 'CZ',
  'US', 'CA', 'AU', 'NZ', 'JP', 'KR', 'SG', 'MY', 'TH', 'HK', 'TW', 'CN',
];

function useRegionName(): (code: string) => string {
  const { locale } = useI18n();
  return useMemo(() => {
    let dn: Intl.DisplayNames | null = null;
    try {
      dn = new Intl.DisplayNames([locale], { type: 'region' });
    } catch {
      dn = null;
    }
    return (code: string) => dn?.of(code) ?? code;
  }, [locale]);
}

function SaveError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div style={{ marginBottom: 16 }}>
      <ErrorState error={error} variant="inline" />
    </div>
  );
}

// ——— Company details ———

interface CompanyValues {
  legal_name: string;
  country: string;
  contact_name: string;
  contact_email: string;
  contact_phone: string;
}

export function CompanyForm({ profile, footer, onSaved }: { profile: Profile; footer: Footer; onSaved?: (p: Profile) => void }) {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const region = useRegionName();
  const save = useSaveProfile(shop.slug);
  const [form] = Form.useForm<CompanyValues>();
  const [error, setError] = useState<unknown>(null);
  const readOnly = !can('shop:write');
  const submit = (v: CompanyValues) => {
    setError(null);
    save.mutate(
      { ...profileInput(profile), ...v },
      { onSuccess: (p) => onSaved?.(p), onError: (e) => (showFieldError(form, e) ? null : setError(e)) },
    );
  };
  return (
    <Form<CompanyValues>
      form={form}
      name="company"
      layout="vertical"
      requiredMark="optional"
      disabled={readOnly || save.isPending}
      initialValues={{
        legal_name: profile.legal_name,
        country: profile.country || undefined,
        contact_name: profile.contact_name,
        contact_email: profile.contact_email,
        contact_phone: profile.contact_phone,
      }}
      onFinish={submit}
    >
      <Row gutter={16}>
        <Col xs={24} md={14}>
          <Form.Item name="legal_name" label={t('company.legalName')} extra={t('company.legalNameHelp')} rules={[{ required: true, whitespace: true, message: t('company.legalNameRequired') }]}>
            <Input placeholder="Nordic Skin AB" />
          </Form.Item>
        </Col>
        <Col xs={24} md={10}>
          <Form.Item name="country" label={t('company.country')} rules={[{ required: true, message: t('company.countryRequired') }]}>
            <Select
              showSearch
              optionFilterProp="label"
              placeholder={t('company.countryPlaceholder')}
              options={COUNTRIES.map((c) => ({ value: c, label: `${region(c)} (${c})` }))}
            />
          </Form.Item>
        </Col>
      </Row>
      <Typography.Title level={5} className="form-section-title">
        {t('company.contact')}
      </Typography.Title>
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="contact_name" label={t('company.contactName')}>
            <Input autoComplete="name" />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item
            name="contact_email"
            label={t('company.contactEmail')}
            rules={[
              { required: true, message: t('company.contactEmailRequired') },
              { type: 'email', message: t('login.emailInvalid') },
            ]}
          >
            <Input inputMode="email" autoComplete="email" />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="contact_phone" label={t('company.contactPhone')} extra={t('company.contactPhoneHelp')}>
            <Input inputMode="tel" autoComplete="tel" placeholder="+46 8 123 456" />
          </Form.Item>
        </Col>
      </Row>
      <SaveError error={error} />
      {!readOnly && footer(save.isPending)}
    </Form>
  );
}

// ——— Shop profile ———

export const SHOP_LOCALES = ['zh-CN', 'en', 'zh-TW', 'ja', 'ko', 'fr', 'de', 'it', 'es', 'sv', 'da', 'nl'];

function useLanguageName(): (tag: string) => string {
  const { locale } = useI18n();
  return useMemo(() => {
    let dn: Intl.DisplayNames | null = null;
    try {
      dn = new Intl.DisplayNames([locale], { type: 'language' });
    } catch {
      dn = null;
    }
    return (tag: string) => dn?.of(tag) ?? tag;
  }, [locale]);
}

interface ShopValues {
  display_name: string;
  logo_url: string;
  locales: string[];
  default_locale: string;
}

export function ShopProfileForm({ profile, footer, onSaved }: { profile: Profile; footer: Footer; onSaved?: (p: Profile) => void }) {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const langName = useLanguageName();
  const save = useSaveProfile(shop.slug);
  const [form] = Form.useForm<ShopValues>();
  const [error, setError] = useState<unknown>(null);
  const [logoImage, setLogoImage] = useState<string | null>(profile.logo_image);
  const [uploading, setUploading] = useState(false);
  const readOnly = !can('shop:write');
  const locales = Form.useWatch('locales', form) ?? profile.locales;

  const submit = (v: ShopValues) => {
    setError(null);
    save.mutate(
      {
        ...profileInput(profile),
        display_name: v.display_name,
        logo_image: logoImage,
        logo_url: logoImage ? null : v.logo_url?.trim() || null,
        locales: v.locales,
        default_locale: v.default_locale,
      },
      { onSuccess: (p) => onSaved?.(p), onError: (e) => (showFieldError(form, e) ? null : setError(e)) },
    );
  };

  const upload = async (file: File) => {
    setUploading(true);
    try {
      const img = await uploadImage(shop.slug, file);
      setLogoImage(img.hash);
      form.setFieldValue('logo_url', '');
    } catch (e) {
      void message.error(errorMessage(e));
    } finally {
      setUploading(false);
    }
  };

  return (
    <Form<ShopValues>
      form={form}
      name="shop-profile"
      layout="vertical"
      disabled={readOnly || save.isPending}
      initialValues={{
        display_name: profile.display_name,
        logo_url: profile.logo_image ? '' : profile.logo_url ?? '',
        locales: profile.locales,
        default_locale: profile.default_locale,
      }}
      onFinish={submit}
    >
      <Row gutter={24}>
        <Col xs={24} md={14}>
          <Form.Item name="display_name" label={t('shopProfile.displayName')} extra={t('shopProfile.displayNameHelp')} rules={[{ required: true, whitespace: true, message: t('shopProfile.displayNameRequired') }]}>
            <Input />
          </Form.Item>
          <Form.Item label={t('shopProfile.address')}>
            <Typography.Text code copyable className="mono" data-testid="storefront-host">
              {profile.storefront_host}
            </Typography.Text>
            <div>
              <Typography.Text type="secondary">{t('shopProfile.addressHelp')}</Typography.Text>
            </div>
          </Form.Item>
          <Form.Item name="locales" label={t('shopProfile.locales')} extra={t('shopProfile.localesHelp')} rules={[{ required: true, message: t('shopProfile.localesRequired') }]}>
            <Checkbox.Group
              className="locale-grid"
              options={SHOP_LOCALES.map((l) => ({ value: l, label: `${langName(l)} · ${l}`, disabled: l === 'zh-CN' }))}
            />
          </Form.Item>
          <Form.Item name="default_locale" label={t('shopProfile.defaultLocale')}>
            <Select style={{ maxWidth: 280 }} options={(locales ?? []).map((l) => ({ value: l, label: `${langName(l)} · ${l}` }))} />
          </Form.Item>
        </Col>
        <Col xs={24} md={10}>
          <Form.Item label={t('shopProfile.logo')} extra={t('shopProfile.logoHelp')}>
            <div className="logo-drop">
              {logoImage || profile.logo_url ? (
                <div className="logo-preview">
                  <img src={logoImage ? imageURL(shop.slug, logoImage) : (profile.logo_url ?? '')} alt="" />
                  {!readOnly && (
                    <Button size="small" icon={<DeleteOutlined />} onClick={() => { setLogoImage(null); form.setFieldValue('logo_url', ''); }}>
                      {t('shopProfile.logoRemove')}
                    </Button>
                  )}
                </div>
              ) : null}
              <Upload.Dragger
                accept="image/png,image/jpeg,image/webp,image/gif"
                showUploadList={false}
                disabled={readOnly || uploading}
                beforeUpload={(f) => {
                  void upload(f);
                  return false;
                }}
              >
                <p className="ant-upload-drag-icon">
                  <InboxOutlined />
                </p>
                <p className="ant-upload-text">{uploading ? t('common.uploading') : t('shopProfile.logoDrop')}</p>
                <p className="ant-upload-hint">{t('shopProfile.logoDropHint')}</p>
              </Upload.Dragger>
            </div>
          </Form.Item>
          <Form.Item name="logo_url" label={t('shopProfile.logoUrl')} rules={[{ type: 'url', message: t('shopProfile.logoUrlInvalid') }]}>
            <Input placeholder="https://…/logo.png" disabled={readOnly || !!logoImage} />
          </Form.Item>
        </Col>
      </Row>
      <SaveError error={error} />
      {!readOnly && footer(save.isPending)}
    </Form>
  );
}

// ——— Credentials ———

export function VerificationTag({ v }: { v: Verification | null }) {
  const { t, dateTime } = useI18n();
  if (!v) return <Tag bordered={false}>{t('creds.notVerified')}</Tag>;
  if (v.pending || v.status === 'pending') {
    return (
      <Tag icon={<ClockCircleOutlined />} color="processing" data-testid="verification" data-status="pending">
        {t('creds.verifying')}
      </Tag>
    );
  }
  const color = v.status === 'ok' ? 'success' : v.status === 'failed' ? 'error' : 'default';
  const icon = v.status === 'ok' ? <CheckCircleFilled /> : v.status === 'failed' ? <CloseCircleFilled /> : <SafetyCertificateOutlined />;
  return (
    <span className="verification" data-testid="verification" data-status={v.status}>
      <Tag icon={icon} color={color}>
        {t(v.status === 'ok' ? 'creds.status.ok' : v.status === 'failed' ? 'creds.status.failed' : v.status === 'format_checked' ? 'creds.status.format_checked' : 'creds.status.other')}
      </Tag>
      {v.message && <Typography.Text type="secondary">{v.message}</Typography.Text>}
      {v.checked_at && <Typography.Text type="secondary"> · {dateTime(v.checked_at)}</Typography.Text>}
    </span>
  );
}

/** A secret's input: blank keeps the stored one, whose last characters are shown. */
function secretExtra(t: (k: MessageKey, v?: Record<string, string>) => string, set: CredentialSet | undefined, name: string) {
  const h = set?.secrets?.[name];
  if (!h?.set) return undefined;
  return t('creds.secretKept', { last4: h.last4 ?? '••••' });
}

/** Reads a dropped or chosen PEM file into the field as text. */
function PemFile({ value, onChange, disabled, testId }: { value?: string; onChange?: (v: string) => void; disabled?: boolean; testId?: string }) {
  const { t } = useI18n();
  const [name, setName] = useState<string | null>(null);
  const loaded = !!value;
  return (
    <div className="pem-file" data-testid={testId}>
      <Upload
        accept=".pem,.crt,.cer,.key,.txt"
        showUploadList={false}
        disabled={disabled}
        beforeUpload={(f) => {
          void f.text().then((txt) => {
            setName(f.name);
            onChange?.(txt);
          });
          return false;
        }}
      >
        <Button icon={<UploadOutlined />} disabled={disabled}>
          {loaded ? t('creds.fileReplace') : t('creds.fileChoose')}
        </Button>
      </Upload>
      {loaded && (
        <Typography.Text type="success" className="pem-file-name">
          <FileProtectOutlined /> {name ?? t('creds.fileLoaded')}
        </Typography.Text>
      )}
      {loaded && !disabled && (
        <Button type="text" size="small" icon={<DeleteOutlined />} onClick={() => { setName(null); onChange?.(''); }} aria-label={t('common.remove')} />
      )}
    </div>
  );
}

/** Keeps only the fields with a value: omitted ones keep what is stored. */
function provided(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined || x === null || x === '') continue;
    out[k] = typeof x === 'string' ? x.trim() : x;
  }
  return out;
}

interface CredFormProps {
  overview: CredentialsOverview;
  footer: Footer;
  onSaved?: () => void;
}

export function MiniProgramForm({ overview, footer, onSaved }: CredFormProps) {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const save = useSaveCredentials(shop.slug, 'live', 'miniprogram');
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const set = overview.credentials.live.miniprogram;
  const test = overview.credentials.test.miniprogram;
  const readOnly = !can('credentials:write');
  return (
    <Form
      form={form}
      name="miniprogram"
      layout="vertical"
      disabled={readOnly || save.isPending}
      initialValues={{ appid: (set.public.appid as string) ?? '' }}
      onFinish={(v: Record<string, unknown>) => {
        setError(null);
        save.mutate(provided(v), { onSuccess: () => onSaved?.(), onError: (e) => (showFieldError(form, e) ? null : setError(e)) });
      }}
    >
      {test.configured && (
        <Alert
          type="info"
          showIcon
          className="form-alert"
          message={t('creds.mp.sandbox', { appid: String(test.public.appid ?? '') })}
        />
      )}
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item name="appid" label={t('creds.mp.appid')} extra={t('creds.mp.appidHelp')} rules={[{ required: true, message: t('creds.required') }, { pattern: /^wx[0-9a-f]{16}$/, message: t('creds.mp.appidInvalid') }]}>
            <Input className="mono" placeholder="wx0123456789abcdef" />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item
            name="secret"
            label={t('creds.mp.secret')}
            extra={secretExtra(t, set, 'secret') ?? t('creds.mp.secretHelp')}
            rules={[{ required: !set.secrets.secret?.set, message: t('creds.required') }, { pattern: /^[0-9a-fA-F]{32}$/, message: t('creds.mp.secretInvalid') }]}
          >
            <Input.Password className="mono" autoComplete="off" />
          </Form.Item>
        </Col>
      </Row>
      {set.configured && (
        <Form.Item label={t('creds.verification')}>
          <VerifyRow set={set} kind="miniprogram" />
        </Form.Item>
      )}
      <SaveError error={error} />
      {!readOnly && footer(save.isPending)}
    </Form>
  );
}

function VerifyRow({ set, kind }: { set: CredentialSet; kind: 'miniprogram' | 'wechatpay' | 'customs' }) {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const verify = useVerifyCredentials(shop.slug, set.mode, kind);
  return (
    <Space wrap>
      <VerificationTag v={set.verification} />
      {can('credentials:write') && (
        <Button size="small" onClick={() => verify.mutate()} loading={verify.isPending} disabled={set.verification?.pending}>
          {t('creds.verifyNow')}
        </Button>
      )}
    </Space>
  );
}

export function WeChatPayForm({ overview, footer, onSaved }: CredFormProps) {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const save = useSaveCredentials(shop.slug, 'live', 'wechatpay');
  const verify = useVerifyCredentials(shop.slug, 'live', 'wechatpay');
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [changed, setChanged] = useState<string[] | null>(null);
  const set = overview.credentials.live.wechatpay;
  const readOnly = !can('credentials:write');
  const mode = (Form.useWatch('mode', form) as string | undefined) ?? (set.public.mode as string | undefined) ?? 'global';
  const verifyWith = (Form.useWatch('verify_with', form) as string | undefined) ?? (set.public.public_key_id ? 'public_key' : 'platform_certs');
  const has = (name: string) => set.secrets[name]?.set || !!set.public[name];
  return (
    <Form
      form={form}
      name="wechatpay"
      layout="vertical"
      disabled={readOnly || save.isPending}
      initialValues={{
        mode: (set.public.mode as string) ?? 'global',
        mch_id: set.public.mch_id ?? '',
        sub_mch_id: set.public.sub_mch_id ?? '',
        sp_appid: set.public.sp_appid ?? '',
        public_key_id: set.public.public_key_id ?? '',
        verify_with: set.public.public_key_id ? 'public_key' : 'platform_certs',
      }}
      onFinish={(raw: Record<string, unknown>) => {
        setError(null);
        setChanged(null);
        const { verify_with, ...v } = raw;
        if (verify_with === 'public_key') delete v.platform_certs_pem;
        else {
          delete v.public_key_pem;
          delete v.public_key_id;
        }
        if (v.mode === 'direct') {
          delete v.sub_mch_id;
          delete v.sp_appid;
        }
        save.mutate(provided(v), {
          onSuccess: (r) => {
            setChanged(r.fields_changed);
            // Check the keys against WeChat Pay (the sandbox in test) in the background.
            verify.mutate();
            onSaved?.();
          },
          onError: (e) => (showFieldError(form, e, { platform_serials: 'platform_certs_pem', cert_serial: 'merchant_cert_pem' }) ? null : setError(e)),
        });
      }}
    >
      <Form.Item name="mode" label={t('creds.pay.mode')}>
        <Radio.Group optionType="button" buttonStyle="solid">
          <Radio.Button value="global">{t('creds.pay.mode.global')}</Radio.Button>
          <Radio.Button value="direct">{t('creds.pay.mode.direct')}</Radio.Button>
          <Radio.Button value="partner">{t('creds.pay.mode.partner')}</Radio.Button>
        </Radio.Group>
      </Form.Item>
      <Typography.Paragraph type="secondary" className="form-note">
        {t(`creds.pay.modeHelp.${mode === 'direct' || mode === 'partner' ? mode : 'global'}`)}
      </Typography.Paragraph>
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="mch_id" label={t('creds.pay.mchId')} rules={[{ required: true, message: t('creds.required') }, { pattern: /^[0-9]{6,20}$/, message: t('creds.pay.mchIdInvalid') }]}>
            <Input className="mono" inputMode="numeric" />
          </Form.Item>
        </Col>
        {mode !== 'direct' && (
          <>
            <Col xs={24} md={8}>
              <Form.Item name="sub_mch_id" label={t('creds.pay.subMchId')} rules={[{ required: mode === 'partner', message: t('creds.required') }, { pattern: /^[0-9]{6,20}$/, message: t('creds.pay.mchIdInvalid') }]}>
                <Input className="mono" inputMode="numeric" />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="sp_appid" label={t('creds.pay.spAppid')} rules={[{ required: mode === 'partner', message: t('creds.required') }, { pattern: /^wx[0-9a-f]{16}$/, message: t('creds.mp.appidInvalid') }]}>
                <Input className="mono" />
              </Form.Item>
            </Col>
          </>
        )}
      </Row>
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item
            name="apiv3_key"
            label={t('creds.pay.apiv3Key')}
            extra={secretExtra(t, set, 'apiv3_key') ?? t('creds.pay.apiv3KeyHelp')}
            rules={[{ required: !has('apiv3_key'), message: t('creds.required') }, { len: 32, message: t('creds.pay.apiv3KeyInvalid') }]}
          >
            <Input.Password className="mono" autoComplete="off" />
          </Form.Item>
        </Col>
        {mode !== 'global' && (
          <Col xs={24} md={12}>
            <Form.Item
              name="apiv2_key"
              label={t('creds.pay.apiv2Key')}
              extra={secretExtra(t, set, 'apiv2_key') ?? t('creds.pay.apiv2KeyHelp')}
              rules={[{ len: 32, message: t('creds.pay.apiv2KeyInvalid') }]}
            >
              <Input.Password className="mono" autoComplete="off" />
            </Form.Item>
          </Col>
        )}
      </Row>
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item
            name="private_key_pem"
            label={t('creds.pay.privateKey')}
            extra={secretExtra(t, set, 'private_key_pem') ?? t('creds.pay.privateKeyHelp')}
            rules={[{ required: !has('private_key_pem'), message: t('creds.fileRequired') }]}
          >
            <PemFile disabled={readOnly} testId="private-key-file" />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item
            name="merchant_cert_pem"
            label={t('creds.pay.merchantCert')}
            extra={has('merchant_cert_pem') ? t('creds.fileKept') : t('creds.pay.merchantCertHelp')}
            rules={[{ required: !has('merchant_cert_pem'), message: t('creds.fileRequired') }]}
          >
            <PemFile disabled={readOnly} testId="merchant-cert-file" />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item name="verify_with" label={t('creds.pay.verifyWith')}>
        <Radio.Group>
          <Radio value="platform_certs">{t('creds.pay.platformCerts')}</Radio>
          <Radio value="public_key">{t('creds.pay.publicKey')}</Radio>
        </Radio.Group>
      </Form.Item>
      {verifyWith === 'public_key' ? (
        <Row gutter={16}>
          <Col xs={24} md={12}>
            <Form.Item name="public_key_id" label={t('creds.pay.publicKeyId')} rules={[{ required: true, message: t('creds.required') }]}>
              <Input className="mono" placeholder="PUB_KEY_ID_…" />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="public_key_pem" label={t('creds.pay.publicKeyFile')} rules={[{ required: !has('public_key_pem'), message: t('creds.fileRequired') }]}>
              <PemFile disabled={readOnly} testId="public-key-file" />
            </Form.Item>
          </Col>
        </Row>
      ) : (
        <Form.Item name="platform_certs_pem" label={t('creds.pay.platformCertsFile')} extra={t('creds.pay.platformCertsHelp')} rules={[{ required: !has('platform_certs_pem'), message: t('creds.fileRequired') }]}>
          <PemFile disabled={readOnly} testId="platform-certs-file" />
        </Form.Item>
      )}
      {changed && (
        <Alert type="success" showIcon className="form-alert" message={t('creds.saved', { fields: changed.join(', ') || '—' })} />
      )}
      {set.configured && (
        <Form.Item label={t('creds.verification')}>
          <VerifyRow set={set} kind="wechatpay" />
        </Form.Item>
      )}
      <SaveError error={error} />
      {!readOnly && footer(save.isPending)}
    </Form>
  );
}

export const CUSTOMS_OFFICES = ['HANGZHOU_ZS', 'SHANGHAI_ZS', 'GUANGZHOU_ZS', 'NINGBO', 'ZHENGZHOU_BS', 'ZHENGZHOU_ZH_ZS', 'CHONGQING', 'SHENZHEN', 'TIANJIN', 'ZONGSHU'];

export function CustomsForm({ overview, footer, onSaved }: CredFormProps) {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const save = useSaveCredentials(shop.slug, 'live', 'customs');
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const set = overview.credentials.live.customs;
  const readOnly = !can('credentials:write');
  const code = [{ required: true, message: t('creds.required') }, { pattern: /^([0-9A-Z]{10}|[0-9A-Z]{18})$/, message: t('creds.customs.codeInvalid') }];
  return (
    <Form
      form={form}
      name="customs"
      layout="vertical"
      disabled={readOnly || save.isPending}
      initialValues={{ trade_mode: '1210', customs_office: 'HANGZHOU_ZS', ...set.public }}
      onFinish={(v: Record<string, unknown>) => {
        setError(null);
        save.mutate(provided(v), { onSuccess: () => onSaved?.(), onError: (e) => (showFieldError(form, e) ? null : setError(e)) });
      }}
    >
      <Row gutter={16}>
        <Col xs={24} md={10}>
          <Form.Item name="ebc_code" label={t('creds.customs.ebcCode')} extra={t('creds.customs.ebcHelp')} rules={code}>
            <Input className="mono" />
          </Form.Item>
        </Col>
        <Col xs={24} md={14}>
          <Form.Item name="ebc_name" label={t('creds.customs.ebcName')} rules={[{ required: true, message: t('creds.required') }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={24} md={10}>
          <Form.Item name="ebp_code" label={t('creds.customs.ebpCode')} extra={t('creds.customs.ebpHelp')} rules={code}>
            <Input className="mono" />
          </Form.Item>
        </Col>
        <Col xs={24} md={14}>
          <Form.Item name="ebp_name" label={t('creds.customs.ebpName')} rules={[{ required: true, message: t('creds.required') }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="customs_office" label={t('creds.customs.office')}>
            <Select options={CUSTOMS_OFFICES.map((o) => ({ value: o, label: o }))} />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="customs_mch_no" label={t('creds.customs.mchNo')} rules={[{ required: true, message: t('creds.required') }, { pattern: /^[A-Za-z0-9]{1,32}$/, message: t('creds.customs.mchNoInvalid') }]}>
            <Input className="mono" />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="trade_mode" label={t('creds.customs.tradeMode')}>
            <Radio.Group optionType="button">
              <Radio.Button value="1210">{t('tradeMode.1210')}</Radio.Button>
              <Radio.Button value="9610">{t('tradeMode.9610')}</Radio.Button>
            </Radio.Group>
          </Form.Item>
        </Col>
      </Row>
      <SaveError error={error} />
      {!readOnly && footer(save.isPending)}
    </Form>
  );
}

// ——— Warehouses ———

export function WarehouseForm({ footer, onSaved }: { footer: Footer; onSaved?: () => void }) {
  const { t, date } = useI18n();
  const { shop, can } = useShop();
  const list = useWarehouses(shop.slug);
  const create = useCreateWarehouse(shop.slug);
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const readOnly = !can('catalog:write');
  return (
    <>
      <QueryState query={list} isEmpty={(ws) => ws.length === 0} empty={<Typography.Paragraph type="secondary">{t('warehouse.none')}</Typography.Paragraph>}>
        {(ws) => (
          <Table
            size="small"
            rowKey="id"
            pagination={false}
            className="form-table"
            dataSource={ws}
            columns={[
              { title: t('warehouse.code'), dataIndex: 'code', render: (c: string) => <span className="mono">{c}</span> },
              { title: t('warehouse.name'), dataIndex: 'name' },
              { title: t('warehouse.kind'), dataIndex: 'kind', render: (k: string) => <Tag bordered={false}>{t(k === 'bonded' ? 'warehouse.bonded' : 'warehouse.overseas')}</Tag> },
              { title: t('common.created'), dataIndex: 'created_at', render: (d: string) => date(d) },
            ]}
          />
        )}
      </QueryState>
      {!readOnly && (
        <Form
          form={form}
          name="warehouse"
          layout="vertical"
          disabled={create.isPending}
          initialValues={{ kind: 'bonded' }}
          onFinish={(v: { code: string; name: string; kind: string }) => {
            setError(null);
            create.mutate(v, {
              onSuccess: () => {
                form.resetFields();
                onSaved?.();
              },
              onError: (e) => (showFieldError(form, e) ? null : setError(e)),
            });
          }}
        >
          <Typography.Title level={5} className="form-section-title">
            {t('warehouse.add')}
          </Typography.Title>
          <Row gutter={16}>
            <Col xs={24} md={6}>
              <Form.Item name="code" label={t('warehouse.code')} rules={[{ required: true, message: t('creds.required') }]}>
                <Input className="mono" placeholder="HZ-01" />
              </Form.Item>
            </Col>
            <Col xs={24} md={10}>
              <Form.Item name="name" label={t('warehouse.name')} rules={[{ required: true, message: t('creds.required') }]}>
                <Input placeholder={t('warehouse.namePlaceholder')} />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="kind" label={t('warehouse.kind')}>
                <Radio.Group optionType="button">
                  <Radio.Button value="bonded">{t('warehouse.bonded')}</Radio.Button>
                  <Radio.Button value="overseas">{t('warehouse.overseas')}</Radio.Button>
                </Radio.Group>
              </Form.Item>
            </Col>
          </Row>
          <SaveError error={error} />
          {footer(create.isPending)}
        </Form>
      )}
    </>
  );
}

/** The company's details as a read-out (home, read-only settings). */
export function CompanySummary({ profile }: { profile: Profile }) {
  const { t } = useI18n();
  const region = useRegionName();
  return (
    <Descriptions column={1} size="small" colon={false}>
      <Descriptions.Item label={t('company.legalName')}>{profile.legal_name || '—'}</Descriptions.Item>
      <Descriptions.Item label={t('company.country')}>{profile.country ? region(profile.country) : '—'}</Descriptions.Item>
      <Descriptions.Item label={t('company.contactEmail')}>{profile.contact_email || '—'}</Descriptions.Item>
    </Descriptions>
  );
}

