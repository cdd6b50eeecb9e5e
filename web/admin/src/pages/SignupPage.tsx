import { CheckCircleFilled, CloseCircleFilled, LoadingOutlined, LockOutlined, MailOutlined, ShopOutlined, UserOutlined } from '@ant-design/icons';
import { Alert, Button, Form, Input, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { useSignUp, useSlugAvailability } from '../api/profile';
import { useSession } from '../api/session';
import { showFieldError } from '../components/formErrors';
import { RequestId, useErrorMessage } from '../components/States';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { useI18n } from '../i18n/I18nProvider';
import { AuthFrame } from './account/AuthFrame';

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

export function SignupPage() {
  const { t } = useI18n();
  const session = useSession();
  const navigate = useNavigate();
  const signUp = useSignUp();
  const errorMessage = useErrorMessage();
  const [form] = Form.useForm<SignupForm>();
  const [slugEdited, setSlugEdited] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const slug = Form.useWatch('slug', form) ?? '';
  // The same query as SlugHint's (shared cache): it names the platform's domain.
  const avail = useSlugAvailability(useDebounced(slug.trim().toLowerCase(), 300) || 'shop');
  const base = baseOf(avail.data?.host, avail.data?.slug);
  useDocumentTitle(t('signup.title'));

  if (session.data && !signUp.isSuccess) return <Navigate to="/" replace />;

  const submit = (v: SignupForm) => {
    setError(null);
    signUp.mutate(
      { ...v, slug: v.slug.trim().toLowerCase() },
      {
        onSuccess: () => void navigate(`/s/${encodeURIComponent(v.slug.trim().toLowerCase())}/onboarding`, { replace: true }),
        onError: (e) => {
          if (!showFieldError(form, e)) setError(e);
        },
      },
    );
  };

  return (
    <AuthFrame hero="signup" wrapClassName="signup-form-wrap">
          <Typography.Title level={2} className="login-title">
            {t('signup.title')}
          </Typography.Title>
          <Typography.Paragraph type="secondary" className="login-subtitle">
            {t('signup.subtitle')}
          </Typography.Paragraph>
          <Form<SignupForm>
            form={form}
            layout="vertical"
            requiredMark={false}
            size="large"
            name="sign-up"
            onFinish={submit}
            disabled={signUp.isPending}
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
            <Button type="primary" htmlType="submit" block loading={signUp.isPending}>
              {t('signup.submit')}
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
