import { ArrowLeftOutlined, LockOutlined, MailOutlined, TeamOutlined } from '@ant-design/icons';
import { Alert, Button, Form, Input, Result, Skeleton, Typography } from 'antd';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useAcceptInvitation, useInvitationInfo, useRequestReset, useResetPassword } from '../../api/account';
import { isApiError } from '../../api/client';
import { useSession, useSignOut } from '../../api/session';
import { RequestId, useErrorMessage } from '../../components/States';
import { useRoleLabel } from '../../components/Tags';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { AuthFrame } from './AuthFrame';

function ErrorAlert({ error }: { error: unknown }) {
  const errorMessage = useErrorMessage();
  if (!error) return null;
  return (
    <Alert
      type="error"
      showIcon
      className="login-error"
      data-testid="auth-error"
      message={errorMessage(error)}
      description={isApiError(error) && error.requestId ? <RequestId error={error} /> : undefined}
    />
  );
}

/** /forgot-password: ask for a reset link by email. */
export function ForgotPasswordPage() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const reset = useRequestReset();
  useDocumentTitle(t('reset.forgotTitle'));
  return (
    <AuthFrame>
      <Typography.Title level={2} className="login-title">
        {t('reset.forgotTitle')}
      </Typography.Title>
      {reset.isSuccess ? (
        <>
          <Alert type="success" showIcon message={t('reset.sentTitle')} description={t('reset.sentText', { email: reset.variables ?? '' })} data-testid="reset-sent" />
          <div className="auth-switch">
            <Link to="/login">
              <ArrowLeftOutlined /> {t('reset.backToSignIn')}
            </Link>
          </div>
        </>
      ) : (
        <>
          <Typography.Paragraph type="secondary" className="login-subtitle">
            {t('reset.forgotText')}
          </Typography.Paragraph>
          <Form<{ email: string }>
            layout="vertical"
            requiredMark={false}
            size="large"
            initialValues={{ email: params.get('email') ?? '' }}
            onFinish={(v) => reset.mutate(v.email.trim())}
            disabled={reset.isPending}
            name="forgot"
          >
            <Form.Item
              name="email"
              label={t('login.email')}
              rules={[
                { required: true, message: t('login.emailRequired') },
                { type: 'email', message: t('login.emailInvalid') },
              ]}
            >
              <Input prefix={<MailOutlined />} placeholder={t('login.emailPlaceholder')} autoComplete="username" inputMode="email" autoFocus />
            </Form.Item>
            <ErrorAlert error={reset.error} />
            <Button type="primary" htmlType="submit" block loading={reset.isPending} data-testid="reset-request">
              {t('reset.send')}
            </Button>
          </Form>
          <div className="auth-switch">
            <Link to="/login">
              <ArrowLeftOutlined /> {t('reset.backToSignIn')}
            </Link>
          </div>
        </>
      )}
    </AuthFrame>
  );
}

/** /reset-password?token=…: the page of the emailed link. */
export function ResetPasswordPage() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const reset = useResetPassword();
  const navigate = useNavigate();
  const [form] = Form.useForm<{ password: string; confirm: string }>();
  useDocumentTitle(t('reset.title'));
  const badLink = !token || (isApiError(reset.error) && reset.error.code === 'invalid_reset_token');

  if (reset.isSuccess) {
    return (
      <AuthFrame>
        <Result
          status="success"
          title={t('reset.doneTitle')}
          subTitle={t('reset.doneText')}
          extra={
            <Button type="primary" onClick={() => void navigate('/login', { replace: true })} data-testid="reset-sign-in">
              {t('login.submit')}
            </Button>
          }
        />
      </AuthFrame>
    );
  }
  if (badLink) {
    return (
      <AuthFrame>
        <Result
          status="warning"
          title={t('reset.badLinkTitle')}
          subTitle={t('reset.badLinkText')}
          extra={
            <Button type="primary" onClick={() => void navigate('/forgot-password')} data-testid="reset-new-link">
              {t('reset.newLink')}
            </Button>
          }
        />
      </AuthFrame>
    );
  }
  return (
    <AuthFrame>
      <Typography.Title level={2} className="login-title">
        {t('reset.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary" className="login-subtitle">
        {t('reset.text')}
      </Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        requiredMark={false}
        size="large"
        onFinish={(v) =>
          reset.mutate(
            { token, password: v.password },
            {
              onError: (e) => {
                if (isApiError(e) && (e.code === 'weak_password' || e.code === 'invalid_password')) {
                  form.setFields([{ name: 'password', errors: [e.message] }]);
                }
              },
            },
          )
        }
        disabled={reset.isPending}
        name="reset"
      >
        <Form.Item
          name="password"
          label={t('reset.newPassword')}
          extra={t('reset.passwordHelp')}
          rules={[
            { required: true, message: t('login.passwordRequired') },
            { min: 10, message: t('reset.passwordShort') },
          ]}
        >
          <Input.Password prefix={<LockOutlined />} autoComplete="new-password" autoFocus data-testid="reset-password" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label={t('reset.confirmPassword')}
          dependencies={['password']}
          rules={[
            { required: true, message: t('login.passwordRequired') },
            ({ getFieldValue }) => ({
              validator: (_, v) => (!v || v === getFieldValue('password') ? Promise.resolve() : Promise.reject(new Error(t('reset.mismatch')))),
            }),
          ]}
        >
          <Input.Password prefix={<LockOutlined />} autoComplete="new-password" data-testid="reset-confirm" />
        </Form.Item>
        {reset.isError && !(isApiError(reset.error) && ['weak_password', 'invalid_password'].includes(reset.error.code)) && <ErrorAlert error={reset.error} />}
        <Button type="primary" htmlType="submit" block loading={reset.isPending} data-testid="reset-submit">
          {t('reset.submit')}
        </Button>
      </Form>
    </AuthFrame>
  );
}

/** /invite/{token}: accept an invitation to a shop or an agency. */
export function InvitePage() {
  const { t, dateTime } = useI18n();
  const { token = '' } = useParams();
  const info = useInvitationInfo(token);
  const session = useSession();
  const accept = useAcceptInvitation();
  const signOut = useSignOut();
  const navigate = useNavigate();
  const roleLabel = useRoleLabel();
  const errorMessage = useErrorMessage();
  useDocumentTitle(t('invite.title'));

  if (info.isPending || session.isPending) {
    return (
      <AuthFrame>
        <Skeleton active />
      </AuthFrame>
    );
  }
  if (info.isError) {
    return (
      <AuthFrame>
        <Result status="warning" title={t('invite.badTitle')} subTitle={errorMessage(info.error)} extra={<Link to="/login">{t('reset.backToSignIn')}</Link>} />
      </AuthFrame>
    );
  }
  const inv = info.data;
  const where = inv.shop ?? inv.agency ?? '';
  const me = session.data?.user.email;
  const done = () => void navigate('/', { replace: true });

  return (
    <AuthFrame>
      <span className="login-totp-icon">
        <TeamOutlined />
      </span>
      <Typography.Title level={2} className="login-title">
        {t('invite.heading', { where })}
      </Typography.Title>
      <Typography.Paragraph type="secondary" className="login-subtitle">
        {t('invite.text', { email: inv.email, role: roleLabel(inv.role), when: dateTime(inv.expires_at) })}
      </Typography.Paragraph>
      {me && me !== inv.email ? (
        <>
          <Alert type="warning" showIcon message={t('invite.wrongAccount', { me, email: inv.email })} style={{ marginBottom: 16 }} />
          <Button block onClick={() => signOut.mutate()}>
            {t('user.signOut')}
          </Button>
        </>
      ) : me || inv.user_exists ? (
        me ? (
          <>
            <ErrorAlert error={accept.error} />
            <Button type="primary" size="large" block loading={accept.isPending} onClick={() => accept.mutate({ token }, { onSuccess: done })} data-testid="invite-accept">
              {t('invite.accept')}
            </Button>
          </>
        ) : (
          <>
            <Alert type="info" showIcon message={t('invite.signInFirst', { email: inv.email })} style={{ marginBottom: 16 }} />
            <Button type="primary" size="large" block onClick={() => void navigate(`/login?next=${encodeURIComponent(`/invite/${token}`)}`)}>
              {t('login.submit')}
            </Button>
          </>
        )
      ) : (
        <Form<{ name: string; password: string }>
          layout="vertical"
          requiredMark={false}
          size="large"
          onFinish={(v) => accept.mutate({ token, name: v.name?.trim() ?? '', password: v.password }, { onSuccess: done })}
          disabled={accept.isPending}
          name="accept"
        >
          <Form.Item name="name" label={t('invite.name')}>
            <Input autoComplete="name" autoFocus maxLength={120} />
          </Form.Item>
          <Form.Item
            name="password"
            label={t('reset.newPassword')}
            extra={t('reset.passwordHelp')}
            rules={[
              { required: true, message: t('login.passwordRequired') },
              { min: 10, message: t('reset.passwordShort') },
            ]}
          >
            <Input.Password prefix={<LockOutlined />} autoComplete="new-password" />
          </Form.Item>
          <ErrorAlert error={accept.error} />
          <Button type="primary" htmlType="submit" block loading={accept.isPending} data-testid="invite-accept">
            {t('invite.create')}
          </Button>
        </Form>
      )}
    </AuthFrame>
  );
}
