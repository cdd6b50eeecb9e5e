import { ArrowLeftOutlined, LockOutlined, MailOutlined, SafetyOutlined } from '@ant-design/icons';
import { Alert, Button, Form, Input, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import type { GetRef } from 'antd';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { isApiError } from '../api/client';
import { useSession, useSignIn } from '../api/session';
import { safeNext } from '../auth/shops';
import { RequestId, useErrorMessage } from '../components/States';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { useI18n } from '../i18n/I18nProvider';
import { AuthFrame } from './account/AuthFrame';

interface Credentials {
  email: string;
  password: string;
}

export function LoginPage() {
  const { t } = useI18n();
  const session = useSession();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next')) ?? '/';
  const navigate = useNavigate();
  const signIn = useSignIn();
  const errorMessage = useErrorMessage();
  // Set once the server asked for a TOTP code for these credentials.
  const [totpFor, setTotpFor] = useState<Credentials | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const otp = useRef<GetRef<typeof Input.OTP>>(null);
  // Focus the first digit when the code step opens and after a wrong code
  // (the inputs lose focus while the request is pending).
  useEffect(() => {
    if (totpFor && !signIn.isPending) otp.current?.focus();
  }, [totpFor, error, signIn.isPending]);
  useDocumentTitle(totpFor ? t('login.totpTitle') : t('login.title'));

  if (session.data) return <Navigate to={next} replace />;

  const submit = (body: Credentials & { totp?: string }) => {
    setError(null);
    signIn.mutate(body, {
      onSuccess: () => void navigate(next, { replace: true }),
      onError: (e) => {
        if (isApiError(e) && e.code === 'totp_required') {
          setTotpFor({ email: body.email, password: body.password });
          setCode('');
          return;
        }
        if (isApiError(e) && e.code === 'invalid_totp') setCode('');
        setError(e);
      },
    });
  };

  const back = () => {
    setTotpFor(null);
    setCode('');
    setError(null);
  };

  const errorAlert = error ? (
    <Alert
      type="error"
      showIcon
      className="login-error"
      data-testid="login-error"
      message={errorMessage(error)}
      description={isApiError(error) && error.requestId ? <RequestId error={error} /> : undefined}
    />
  ) : null;

  return (
    <AuthFrame>
          {!totpFor ? (
            <>
              <Typography.Title level={2} className="login-title">
                {t('login.title')}
              </Typography.Title>
              <Typography.Paragraph type="secondary" className="login-subtitle">
                {t('login.subtitle')}
              </Typography.Paragraph>
              <Form<Credentials>
                layout="vertical"
                requiredMark={false}
                size="large"
                onFinish={submit}
                disabled={signIn.isPending}
                name="sign-in"
              >
                <Form.Item
                  name="email"
                  label={t('login.email')}
                  rules={[
                    { required: true, message: t('login.emailRequired') },
                    { type: 'email', message: t('login.emailInvalid') },
                  ]}
                >
                  <Input
                    prefix={<MailOutlined />}
                    placeholder={t('login.emailPlaceholder')}
                    autoComplete="username"
                    inputMode="email"
                    autoFocus
                  />
                </Form.Item>
                <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.passwordRequired') }]}>
                  <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
                </Form.Item>
                <div style={{ textAlign: 'right', margin: '-16px 0 16px' }}>
                  <Link to="/forgot-password" data-testid="forgot-link">{t('reset.forgotLink')}</Link>
                </div>
                {errorAlert}
                <Button type="primary" htmlType="submit" block loading={signIn.isPending}>
                  {t('login.submit')}
                </Button>
              </Form>
              <div className="auth-switch">
                {t('login.noAccount')} <Link to="/signup" data-testid="signup-link">{t('login.createAccount')}</Link>
              </div>
            </>
          ) : (
            <>
              <span className="login-totp-icon">
                <SafetyOutlined />
              </span>
              <Typography.Title level={2} className="login-title">
                {t('login.totpTitle')}
              </Typography.Title>
              <Typography.Paragraph type="secondary" className="login-subtitle">
                {t('login.totpHelp', { email: totpFor.email })}
              </Typography.Paragraph>
              <Form
                layout="vertical"
                size="large"
                onFinish={() => submit({ ...totpFor, totp: code })}
                disabled={signIn.isPending}
                name="totp"
              >
                <Form.Item label={t('login.totpCode')} required>
                  <Input.OTP
                    ref={otp}
                    length={6}
                    value={code}
                    formatter={(s) => s.replace(/\D/g, '')}
                    onChange={(v) => {
                      setCode(v);
                      if (/^\d{6}$/.test(v)) submit({ ...totpFor, totp: v });
                    }}
                    aria-label={t('login.totpCode')}
                  />
                </Form.Item>
                {errorAlert}
                <Button type="primary" htmlType="submit" block loading={signIn.isPending} disabled={!/^\d{6}$/.test(code)}>
                  {t('login.verify')}
                </Button>
                <Button type="link" block icon={<ArrowLeftOutlined />} onClick={back} className="login-back">
                  {t('login.useAnotherAccount')}
                </Button>
              </Form>
            </>
          )}
    </AuthFrame>
  );
}
