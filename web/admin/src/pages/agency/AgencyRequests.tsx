import { RedoOutlined, SendOutlined, ShopOutlined } from '@ant-design/icons';
import type { UseQueryResult } from '@tanstack/react-query';
import { Alert, App, Button, Card, Empty, Form, Input, List, Typography } from 'antd';
import { useSlugAvailability } from '../../api/profile';
import { useRequestAccess, type Access, type AgencyView } from '../../api/team';
import { showFieldError } from '../../components/formErrors';
import { QueryState, useErrorMessage } from '../../components/States';
import { ShopAvatar } from '../../components/ShopAvatar';
import { useI18n } from '../../i18n/I18nProvider';
import { AccessStatusTag } from '../team/AgencyAccessTab';

const EXAMPLE = 'nordic-skin';

/** The form that asks a brand for access, by shop ID, shop address or console link. */
export function RequestForm({ agencyId, admin }: { agencyId: number; admin: boolean }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const request = useRequestAccess(agencyId);
  const [form] = Form.useForm<{ tenant: string; message?: string }>();
  // The platform's storefront address of the example, as the brand would give it.
  const example = useSlugAvailability(EXAMPLE).data?.host ?? `${EXAMPLE}.${window.location.hostname}`;
  if (!admin) {
    return (
      <Card title={t('agency.request.title')} className="agency-card">
        <Alert type="info" showIcon message={t('agency.request.adminsOnly')} />
      </Card>
    );
  }
  const submit = (v: { tenant: string; message?: string }) =>
    request.mutate(
      { tenant: v.tenant.trim(), message: (v.message ?? '').trim() },
      {
        onSuccess: (a) => {
          void message.success(t('agency.request.sent', { shop: a.tenant_name }));
          form.resetFields();
        },
        onError: (e) => {
          if (!showFieldError(form, e)) form.setFields([{ name: 'tenant', errors: [errorMessage(e)] }]);
        },
      },
    );
  return (
    <Card title={t('agency.request.title')} className="agency-card" data-testid="agency-request-form">
      <Typography.Paragraph type="secondary">{t('agency.request.text')}</Typography.Paragraph>
      <Form form={form} layout="vertical" requiredMark={false} onFinish={submit} name="access-request" disabled={request.isPending}>
        <Form.Item
          name="tenant"
          label={t('agency.request.shop')}
          extra={t('agency.request.shopHelp', { slug: EXAMPLE, host: example })}
          rules={[
            { required: true, whitespace: true, message: t('agency.request.shopRequired') },
            { max: 300, message: t('agency.request.shopRequired') },
          ]}
        >
          <Input prefix={<ShopOutlined />} placeholder={example} autoComplete="off" spellCheck={false} className="mono" data-testid="request-shop" />
        </Form.Item>
        <Form.Item name="message" label={t('agency.request.message')} rules={[{ max: 1000, message: t('agency.request.messageTooLong') }]}>
          <Input.TextArea rows={3} maxLength={1000} showCount placeholder={t('agency.request.messagePlaceholder')} data-testid="request-message" />
        </Form.Item>
        <Button type="primary" htmlType="submit" icon={<SendOutlined />} loading={request.isPending} block data-testid="request-submit">
          {t('agency.request.submit')}
        </Button>
      </Form>
    </Card>
  );
}

/** Requests still waiting, refused or ended; approved ones are client shops. */
export function AgencyRequests({ agencyId, admin, query }: { agencyId: number; admin: boolean; query: UseQueryResult<AgencyView> }) {
  const { t } = useI18n();
  return (
    <Card title={t('agencyHome.requests.title')} className="agency-card" data-testid="agency-requests">
      <QueryState
        query={query}
        isEmpty={(a) => a.access.every((x) => x.status === 'approved')}
        empty={
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('agencyHome.requests.empty')}>
            <Typography.Text type="secondary">{t('agencyHome.requests.emptyText')}</Typography.Text>
          </Empty>
        }
      >
        {(a) => (
          <List<Access>
            dataSource={a.access.filter((x) => x.status !== 'approved')}
            renderItem={(x) => <RequestItem access={x} agencyId={agencyId} admin={admin} />}
          />
        )}
      </QueryState>
    </Card>
  );
}

function RequestItem({ access: a, agencyId, admin }: { access: Access; agencyId: number; admin: boolean }) {
  const { t, dateTime } = useI18n();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const request = useRequestAccess(agencyId);
  const again = () =>
    request.mutate(
      { tenant: a.tenant_slug, message: a.message },
      {
        onSuccess: () => void message.success(t('agencyHome.requests.askedAgain', { shop: a.tenant_name })),
        onError: (e) => void message.error(errorMessage(e)),
      },
    );
  const when = dateTime(a.decided_at ?? a.requested_at);
  const text =
    a.status === 'pending'
      ? t('agencyHome.requests.waiting', { when: dateTime(a.requested_at) })
      : a.status === 'declined'
        ? t('agencyHome.requests.declined', { when })
        : t('agencyHome.requests.revoked', { when });
  return (
    <List.Item
      data-testid={`agency-request-${a.tenant_slug}`}
      actions={
        admin && a.status !== 'pending'
          ? [
              <Button key="again" icon={<RedoOutlined />} loading={request.isPending} onClick={again} data-testid={`agency-ask-again-${a.tenant_slug}`}>
                {t('agencyHome.requests.askAgain')}
              </Button>,
            ]
          : []
      }
    >
      <List.Item.Meta
        avatar={<ShopAvatar slug={a.tenant_slug} name={a.tenant_name} size={36} />}
        title={
          <span>
            {a.tenant_name} <AccessStatusTag status={a.status} />
          </span>
        }
        description={
          <span>
            <span className="mono">{a.tenant_slug}</span> · {text}
          </span>
        }
      />
    </List.Item>
  );
}
