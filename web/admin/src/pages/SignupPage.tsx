import { CheckCircleFilled, CloseCircleFilled, LoadingOutlined, LockOutlined, MailOutlined, ShopOutlined, SolutionOutlined, UserOutlined } from '@ant-design/icons';
import { Alert, Button, Form, Input, Typography } from 'antd';
import { useEffect, useState, type KeyboardEvent, type ReactNode } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { useSignUp, useSlugAvailability } from '../api/profile';
import { useSession } from '../api/session';
import { useSignUpAgency } from '../api/team';
import { showFieldError } from '../components/formErrors';
import { RequestId, useErrorMessage } from '../components/States';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { useI18n } from '../i18n/I18nProvider';
import { AuthFrame } from './account/AuthFrame';
import './agency/agency.css';

interface SignupForm {
  name: string;
  email: string;
  password: string;
  company: string;
  slug: string;
}

/** A slug from a brand name: "Nordic Skin AB" → "nordic-skin-ab". */
export function slugify(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
}

/** The platform's domain from an availability answer ({slug}.{base}), else the console's host. */
function baseOf(host: string | undefined, slug: string | undefined): string {
  if (host && slug && host.startsWith(slug + '.')) return host.slice(slug.length + 1);
  return window.location.hostname;
}

export function useDebounced<T>(v: T, ms: number): T {
  const [d, setD] = useState(v);
  useEffect(() => {
    const id = window.setTimeout(() => setD(v), ms);
    return () => window.clearTimeout(id);
  }, [v, ms]);
  return d;
}

/** Live answer of GET /slugs for the slug being typed. */
export function SlugHint({ slug }: { slug: string }) {
  const { t, tMaybe } = useI18n();
  const debounced = useDebounced(slug.trim().toLowerCase(), 300);
  const q = useSlugAvailability(debounced);
  if (!slug) return <span className="slug-hint">{t('signup.slugHelp')}</span>;
  if (debounced !== slug.trim().toLowerCase() || q.isFetching || q.isPending) {
    return (
      <span className="slug-hint" data-testid="slug-status">
        <LoadingOutlined /> {t('signup.slugChecking')}
      </span>
    );
  }
  if (q.isError || !q.data) return <span className="slug-hint">{t('signup.slugHelp')}</span>;
  if (q.data.available) {
    return (
      <span className="slug-hint slug-ok" data-testid="slug-status" data-available="true">
        <CheckCircleFilled /> {t('signup.slugAvailable', { host: q.data.host })}
      </span>
    );
  }
  return (
    <span className="slug-hint slug-bad" data-testid="slug-status" data-available="false">
      <CloseCircleFilled /> {tMaybe(`signup.slug.${q.data.reason ?? 'invalid'}`, q.data.message ?? '')}
      {q.data.reason === 'invalid' && q.data.message ? ` — ${q.data.message}` : ''}
    </span>
  );
}

type Kind = 'brand' | 'agency';

interface AgencyForm {
  agency: string;
}

/** The choice between signing up a brand and an agency, as two radio cards. */
function KindChoice({ kind, onChange }: { kind: Kind; onChange: (k: Kind) => void }) {
  const { t } = useI18n();
  const options: { value: Kind; icon: ReactNode; title: string; text: string }[] = [
    { value: 'brand', icon: <ShopOutlined />, title: t('signup.kind.brand'), text: t('signup.kind.brandText') },
    { value: 'agency', icon: <SolutionOutlined />, title: t('signup.kind.agency'), text: t('signup.kind.agencyText') },
  ];
  const move = (e: KeyboardEvent<HTMLButtonElement>) => {
    if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(e.key)) {
      e.preventDefault();
      onChange(kind === 'brand' ? 'agency' : 'brand');
    }
  };
  return (
    <div className="signup-kind" role="radiogroup" aria-label={t('signup.kind.label')} data-testid="signup-kind">
      {options.map((o) => (
        <button
          key={o.value}
          type="button"
          role="radio"
          aria-checked={kind === o.value}
          tabIndex={kind === o.value ? 0 : -1}
          className="signup-kind-option"
          onClick={() => onChange(o.value)}
          onKeyDown={move}
          data-testid={`signup-kind-${o.value}`}
        >
          <span className="signup-kind-title">
            {o.icon} {o.title}
          </span>
          <span className="signup-kind-text">{o.text}</span>
        </button>
      ))}
    </div>
  );
}

export function SignupPage() {
  const { t } = useI18n();
  const session = useSession();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const kind: Kind = params.get('kind') === 'agency' ? 'agency' : 'brand';
  const signUp = useSignUp();
  const signUpAgency = useSignUpAgency();
  const pending = signUp.isPending || signUpAgency.isPending;
  const errorMessage = useErrorMessage();
  const [form] = Form.useForm<SignupForm & AgencyForm>();
  const [slugEdited, setSlugEdited] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const slug = Form.useWatch('slug', form) ?? '';
  // The same query as SlugHint's (shared cache): it names the platform's domain.
  const avail = useSlugAvailability(useDebounced(slug.trim().toLowerCase(), 300) || 'shop');
  const base = baseOf(avail.data?.host, avail.data?.slug);
  useDocumentTitle(kind === 'agency' ? t('signup.agency.title') : t('signup.title'));

  if (session.data && !signUp.isSuccess && !signUpAgency.isSuccess) return <Navigate to="/" replace />;

  const setKind = (k: Kind) => {
    setError(null);
    setParams(k === 'agency' ? { kind: 'agency' } : {}, { replace: true });
  };
  const failed = (e: unknown) => {
    if (!showFieldError(form, e)) setError(e);
  };
  const submit = (v: SignupForm & AgencyForm) => {
    setError(null);
    if (kind === 'agency') {
      signUpAgency.mutate(
        { name: v.name, email: v.email, password: v.password, agency: v.agency },
        {
          onSuccess: (s) => {
            const a = s.agencies[0];
            void navigate(a ? `/agencies/${a.id}` : '/', { replace: true });
          },
          onError: failed,
        },
      );
      return;
    }
    signUp.mutate(
      { name: v.name, email: v.email, password: v.password, company: v.company, slug: v.slug.trim().toLowerCase() },
      {
        onSuccess: () => void navigate(`/s/${encodeURIComponent(v.slug.trim().toLowerCase())}/onboarding`, { replace: true }),
        onError: failed,
      },
    );
  };

  return (
    <AuthFrame hero={kind === 'agency' ? 'login' : 'signup'} wrapClassName="signup-form-wrap">
          <Typography.Title level={2} className="login-title">
            {kind === 'agency' ? t('signup.agency.title') : t('signup.title')}
          </Typography.Title>
          <Typography.Paragraph type="secondary" className="login-subtitle">
            {kind === 'agency' ? t('signup.agency.subtitle') : t('signup.subtitle')}
          </Typography.Paragraph>
          <KindChoice kind={kind} onChange={setKind} />
          <Form<SignupForm & AgencyForm>
            form={form}
            layout="vertical"
            requiredMark={false}
            size="large"
            name="sign-up"
            onFinish={submit}
            disabled={pending}
            onValuesChange={(changed: Partial<SignupForm>) => {
              if ('company' in changed && !slugEdited) form.setFieldValue('slug', slugify(changed.company ?? ''));
              if ('slug' in changed) setSlugEdited(true);
            }}
          >
            <Form.Item name="name" label={t('signup.name')} rules={[{ required: true, whitespace: true, message: t('signup.nameRequired') }]}>
              <Input prefix={<UserOutlined />} autoComplete="name" autoFocus />
            </Form.Item>
            <Form.Item
              name="email"
              label={t('login.email')}
              rules={[
                { required: true, message: t('login.emailRequired') },
                { type: 'email', message: t('login.emailInvalid') },
              ]}
            >
              <Input prefix={<MailOutlined />} placeholder={t('login.emailPlaceholder')} autoComplete="username" inputMode="email" />
            </Form.Item>
            <Form.Item
              name="password"
              label={t('login.password')}
              extra={t('signup.passwordHelp')}
              rules={[
                { required: true, message: t('login.passwordRequired') },
                { min: 10, message: t('signup.passwordShort') },
              ]}
            >
              <Input.Password prefix={<LockOutlined />} autoComplete="new-password" />
            </Form.Item>
            {kind === 'agency' ? (
              <Form.Item
                name="agency"
                label={t('signup.agency.name')}
                extra={t('signup.agency.nameHelp')}
                rules={[
                  { required: true, whitespace: true, message: t('signup.agency.nameRequired') },
                  { max: 120, message: t('signup.agency.nameRequired') },
                ]}
              >
                <Input prefix={<SolutionOutlined />} placeholder={t('signup.agency.namePlaceholder')} autoComplete="organization" />
              </Form.Item>
            ) : (
              <>
                <Form.Item name="company" label={t('signup.company')} rules={[{ required: true, whitespace: true, message: t('signup.companyRequired') }]}>
                  <Input prefix={<ShopOutlined />} placeholder={t('signup.companyPlaceholder')} autoComplete="organization" />
                </Form.Item>
                <Form.Item
                  name="slug"
                  label={t('signup.slug')}
                  extra={<SlugHint slug={slug} />}
                  rules={[{ required: true, message: t('signup.slugRequired') }]}
                >
                  <Input addonAfter={`.${base}`} className="mono" autoComplete="off" spellCheck={false} />
                </Form.Item>
              </>
            )}
            {error ? (
              <Alert
                type="error"
                showIcon
                className="login-error"
                data-testid="signup-error"
                message={errorMessage(error)}
                description={<RequestId error={error} />}
              />
            ) : null}
            <Button type="primary" htmlType="submit" block loading={pending} data-testid="signup-submit">
              {kind === 'agency' ? t('signup.agency.submit') : t('signup.submit')}
            </Button>
            <Typography.Paragraph type="secondary" className="signup-terms">
              {t('signup.terms')}
            </Typography.Paragraph>
          </Form>
          <div className="auth-switch">
            {t('signup.haveAccount')} <Link to="/login">{t('signup.signIn')}</Link>
          </div>
    </AuthFrame>
  );
}
