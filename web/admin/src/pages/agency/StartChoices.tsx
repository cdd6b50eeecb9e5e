import { ShopOutlined, SolutionOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Col, Form, Input, Row, Typography } from 'antd';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useSlugAvailability } from '../../api/profile';
import { useCreateAgency, useCreateShop } from '../../api/team';
import { useSignedIn } from '../../auth/SessionContext';
import { showFieldError } from '../../components/formErrors';
import { RequestId, useErrorMessage } from '../../components/States';
import { useI18n } from '../../i18n/I18nProvider';
import { SlugHint, slugify, useDebounced } from '../SignupPage';
import './agency.css';

/** The first steps of a signed-in user with no shop and no agency: open a shop, or set up an agency. */
export function StartChoices() {
  const { t } = useI18n();
  const { session } = useSignedIn();
  return (
    <div className="start-page" data-testid="start-choices">
      <Typography.Title level={2} style={{ marginBottom: 4 }}>
        {t('start.title', { name: session.user.name || session.user.email })}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('start.subtitle')}</Typography.Paragraph>
      <Row gutter={[24, 24]} style={{ marginTop: 8 }}>
        <Col xs={24} md={12}>
          <NewShopCard />
        </Col>
        <Col xs={24} md={12}>
          <NewAgencyCard />
        </Col>
      </Row>
      <Typography.Paragraph type="secondary" style={{ marginTop: 24 }}>
        {t('start.invited', { email: session.user.email })}
      </Typography.Paragraph>
    </div>
  );
}

function Failure({ error }: { error: unknown }) {
  const errorMessage = useErrorMessage();
  if (!error) return null;
  return <Alert type="error" showIcon style={{ marginBottom: 16 }} message={errorMessage(error)} description={<RequestId error={error} />} />;
}

function NewShopCard() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const create = useCreateShop();
  const [form] = Form.useForm<{ company: string; slug: string }>();
  const [slugEdited, setSlugEdited] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const slug = Form.useWatch('slug', form) ?? '';
  const avail = useSlugAvailability(useDebounced(slug.trim().toLowerCase(), 300) || 'shop');
  const host = avail.data?.host;
  const base = host && avail.data?.slug && host.startsWith(avail.data.slug + '.') ? host.slice(avail.data.slug.length + 1) : window.location.hostname;
  const submit = (v: { company: string; slug: string }) => {
    setError(null);
    const s = v.slug.trim().toLowerCase();
    create.mutate(
      { company: v.company.trim(), slug: s },
      {
        onSuccess: () => void navigate(`/s/${encodeURIComponent(s)}/onboarding`, { replace: true }),
        onError: (e) => {
          if (!showFieldError(form, e)) setError(e);
        },
      },
    );
  };
  return (
    <Card className="start-card" data-testid="start-brand">
      <ShopOutlined className="start-card-icon" />
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        {t('start.brand.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('start.brand.text')}</Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        requiredMark={false}
        name="new-shop"
        onFinish={submit}
        disabled={create.isPending}
        onValuesChange={(changed: { company?: string; slug?: string }) => {
          if ('company' in changed && !slugEdited) form.setFieldValue('slug', slugify(changed.company ?? ''));
          if ('slug' in changed) setSlugEdited(true);
        }}
      >
        <Form.Item name="company" label={t('signup.company')} rules={[{ required: true, whitespace: true, message: t('signup.companyRequired') }]}>
          <Input placeholder={t('signup.companyPlaceholder')} autoComplete="organization" data-testid="start-company" />
        </Form.Item>
        <Form.Item name="slug" label={t('signup.slug')} extra={<SlugHint slug={slug} />} rules={[{ required: true, message: t('signup.slugRequired') }]}>
          <Input addonAfter={`.${base}`} className="mono" autoComplete="off" spellCheck={false} data-testid="start-slug" />
        </Form.Item>
        <Failure error={error} />
        <Button type="primary" htmlType="submit" block loading={create.isPending} data-testid="start-brand-submit">
          {t('start.brand.submit')}
        </Button>
      </Form>
    </Card>
  );
}

function NewAgencyCard() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const create = useCreateAgency();
  const [form] = Form.useForm<{ name: string }>();
  const [error, setError] = useState<unknown>(null);
  const submit = (v: { name: string }) => {
    setError(null);
    create.mutate(
      { name: v.name.trim() },
      {
        // The session (with the new agency) is read again before this runs.
        onSuccess: (a) => void navigate(`/agencies/${a.id}`, { replace: true }),
        onError: (e) => {
          if (!showFieldError(form, e)) setError(e);
        },
      },
    );
  };
  return (
    <Card className="start-card" data-testid="start-agency">
      <SolutionOutlined className="start-card-icon" />
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        {t('start.agency.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('start.agency.text')}</Typography.Paragraph>
      <Form form={form} layout="vertical" requiredMark={false} name="new-agency" onFinish={submit} disabled={create.isPending}>
        <Form.Item
          name="name"
          label={t('signup.agency.name')}
          extra={t('signup.agency.nameHelp')}
          rules={[
            { required: true, whitespace: true, message: t('signup.agency.nameRequired') },
            { max: 120, message: t('signup.agency.nameRequired') },
          ]}
        >
          <Input placeholder={t('signup.agency.namePlaceholder')} autoComplete="organization" data-testid="start-agency-name" />
        </Form.Item>
        <Failure error={error} />
        <Button type="primary" htmlType="submit" block loading={create.isPending} data-testid="start-agency-submit">
          {t('start.agency.submit')}
        </Button>
      </Form>
    </Card>
  );
}
