import { ArrowLeftOutlined, ArrowRightOutlined, BankOutlined, CarOutlined, CheckCircleFilled, RocketOutlined, SafetyCertificateOutlined, ShopOutlined, WalletOutlined, WechatOutlined } from '@ant-design/icons';
import { Button, Card, Col, Result, Row, Space, Steps, Tag, Typography } from 'antd';
import { useState, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { useCredentials } from '../../api/credentials';
import { profileInput, useProfile, useSaveProfile } from '../../api/profile';
import type { Onboarding, Profile } from '../../api/types';
import { useShop } from '../../auth/ShopContext';
import { PageHeader } from '../../components/PageHeader';
import { Forbidden, QueryState } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import type { MessageKey } from '../../i18n/en';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { CompanyForm, CustomsForm, MiniProgramForm, ShopProfileForm, WarehouseForm, WeChatPayForm, type Footer } from '../settings/forms';

type StepKey = 'company' | 'shop' | 'miniProgram' | 'wechatPay' | 'customs' | 'warehouse' | 'done';

interface Step {
  key: StepKey;
  title: MessageKey;
  text: MessageKey;
  icon: ReactNode;
  optional: boolean;
  done: (o: Onboarding, p: Profile) => boolean;
}

const steps: Step[] = [
  { key: 'company', title: 'wizard.company', text: 'wizard.companyText', icon: <BankOutlined />, optional: false, done: (o) => o.company },
  { key: 'shop', title: 'wizard.shop', text: 'wizard.shopText', icon: <ShopOutlined />, optional: false, done: (_, p) => p.onboarding_completed_at !== null },
  { key: 'miniProgram', title: 'wizard.miniProgram', text: 'wizard.miniProgramText', icon: <WechatOutlined />, optional: true, done: (o) => o.mini_program },
  { key: 'wechatPay', title: 'wizard.wechatPay', text: 'wizard.wechatPayText', icon: <WalletOutlined />, optional: true, done: (o) => o.wechat_pay },
  { key: 'customs', title: 'wizard.customs', text: 'wizard.customsText', icon: <SafetyCertificateOutlined />, optional: true, done: (o) => o.customs },
  { key: 'warehouse', title: 'wizard.warehouse', text: 'wizard.warehouseText', icon: <CarOutlined />, optional: true, done: (o) => o.warehouse },
  { key: 'done', title: 'wizard.done', text: 'wizard.doneText', icon: <RocketOutlined />, optional: false, done: () => false },
];

/** The onboarding wizard: company, shop profile, then optional steps a brand may skip. */
export function OnboardingPage() {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const profile = useProfile(shop.slug);
  useDocumentTitle(t('wizard.title'), shop.name);
  if (!can('shop:write')) return <Forbidden />;
  return (
    <>
      <PageHeader title={t('wizard.title')} subtitle={t('wizard.subtitle', { shop: shop.name })} icon={<RocketOutlined />} />
      <QueryState query={profile} variant="page">
        {(p) => <Wizard profile={p} />}
      </QueryState>
    </>
  );
}

function Wizard({ profile }: { profile: Profile }) {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const navigate = useNavigate();
  const [current, setCurrent] = useState(0);
  const [skipped, setSkipped] = useState<Set<StepKey>>(new Set());
  const [reached, setReached] = useState(0);
  // The shop profile has sensible defaults: it counts as done once passed.
  const isDone = (s: Step) => s.done(profile.onboarding, profile) || (s.key === 'shop' && reached > 1);
  const creds = useCredentials(shop.slug, { poll: true });
  const finish = useSaveProfile(shop.slug);
  const step = steps[current]!;
  const next = () =>
    setCurrent((c) => {
      const n = Math.min(c + 1, steps.length - 1);
      setReached((r) => Math.max(r, n));
      return n;
    });
  const back = () => setCurrent((c) => Math.max(c - 1, 0));
  const skip = () => {
    setSkipped((s) => new Set(s).add(step.key));
    next();
  };

  const footer: Footer = (submitting) => (
    <div className="wizard-footer">
      <Button icon={<ArrowLeftOutlined />} onClick={back} disabled={current === 0} htmlType="button">
        {t('common.back')}
      </Button>
      <Space>
        {step.optional && (
          <Button onClick={skip} htmlType="button" data-testid="wizard-skip">
            {t('wizard.skip')}
          </Button>
        )}
        {step.key === 'wechatPay' ? (
          <>
            <Button type={profile.onboarding.wechat_pay ? 'default' : 'primary'} htmlType="submit" loading={submitting} data-testid="wizard-save">
              {t('creds.saveVerify')}
            </Button>
            {profile.onboarding.wechat_pay && (
              <Button type="primary" onClick={next} htmlType="button" data-testid="wizard-next">
                {t('wizard.continue')} <ArrowRightOutlined />
              </Button>
            )}
          </>
        ) : (
          <Button type="primary" htmlType="submit" loading={submitting} data-testid="wizard-next">
            {t('wizard.saveContinue')} <ArrowRightOutlined />
          </Button>
        )}
      </Space>
    </div>
  );

  const status = (s: Step, i: number): 'finish' | 'process' | 'wait' | 'error' =>
    i === current ? 'process' : isDone(s) ? 'finish' : 'wait';

  const credStep = (render: (o: NonNullable<typeof creds.data>) => ReactNode) =>
    can('credentials:read') ? (
      <QueryState query={creds}>{(o) => render(o)}</QueryState>
    ) : (
      <Forbidden />
    );

  let body: ReactNode;
  switch (step.key) {
    case 'company':
      body = <CompanyForm profile={profile} footer={footer} onSaved={next} />;
      break;
    case 'shop':
      body = <ShopProfileForm profile={profile} footer={footer} onSaved={next} />;
      break;
    case 'miniProgram':
      body = credStep((o) => <MiniProgramForm overview={o} footer={footer} onSaved={next} />);
      break;
    case 'wechatPay':
      body = credStep((o) => <WeChatPayForm overview={o} footer={footer} />);
      break;
    case 'customs':
      body = credStep((o) => <CustomsForm overview={o} footer={footer} onSaved={next} />);
      break;
    case 'warehouse':
      body = (
        <WarehouseForm
          footer={(submitting) => (
            <div className="wizard-footer">
              <Button icon={<ArrowLeftOutlined />} onClick={back} htmlType="button">
                {t('common.back')}
              </Button>
              <Space>
                <Button htmlType="submit" loading={submitting}>
                  {t('warehouse.addButton')}
                </Button>
                <Button type="primary" onClick={profile.onboarding.warehouse ? next : skip} htmlType="button" data-testid="wizard-skip">
                  {profile.onboarding.warehouse ? t('wizard.continue') : t('wizard.skip')} <ArrowRightOutlined />
                </Button>
              </Space>
            </div>
          )}
        />
      );
      break;
    case 'done':
      body = (
        <>
          <Result status="success" title={t('wizard.readyTitle')} subTitle={t('wizard.readyText')} className="wizard-result" />
            <div className="wizard-summary">
              <ul className="wizard-summary-list">
                {steps.slice(0, -1).map((s) => {
                  const done = isDone(s);
                  return (
                    <li key={s.key}>
                      <span className="wizard-summary-icon">{s.icon}</span>
                      <span className="wizard-summary-name">{t(s.title)}</span>
                      {done ? (
                        <Tag color="success" bordered={false} icon={<CheckCircleFilled />}>
                          {t('common.done')}
                        </Tag>
                      ) : (
                        <Tag bordered={false}>{skipped.has(s.key) ? t('wizard.skipped') : t('common.toDo')}</Tag>
                      )}
                    </li>
                  );
                })}
              </ul>
              <Typography.Paragraph type="secondary">{t('wizard.laterText')}</Typography.Paragraph>
              <Space>
                <Button onClick={back}>{t('common.back')}</Button>
                <Button
                  type="primary"
                  size="large"
                  loading={finish.isPending}
                  data-testid="wizard-finish"
                  onClick={() =>
                    finish.mutate({ ...profileInput(profile), onboarding_completed: true }, { onSuccess: () => void navigate(shopPath(shop.slug)) })
                  }
                >
                  {t('wizard.finish')}
                </Button>
              </Space>
            </div>
        </>
      );
      break;
  }

  return (
    <Row gutter={[24, 24]}>
      <Col xs={24} lg={7} xl={6}>
        <Card className="wizard-steps-card">
          <Steps
            direction="vertical"
            size="small"
            current={current}
            onChange={(i) => setCurrent(i)}
            items={steps.map((s, i) => ({
              title: t(s.title),
              description: s.optional ? t('wizard.optional') : undefined,
              icon: isDone(s) && i !== current ? <CheckCircleFilled className="step-done" /> : s.icon,
              status: status(s, i),
            }))}
          />
        </Card>
      </Col>
      <Col xs={24} lg={17} xl={18}>
        <Card className="wizard-card" data-testid={`wizard-step-${step.key}`}>
          <div className="wizard-head">
            <span className="wizard-head-icon">{step.icon}</span>
            <div>
              <Typography.Title level={4} style={{ margin: 0 }}>
                {t(step.title)}
                {step.optional && (
                  <Tag bordered={false} className="wizard-optional">
                    {t('wizard.optional')}
                  </Tag>
                )}
              </Typography.Title>
              <Typography.Paragraph type="secondary" style={{ margin: '4px 0 0' }}>
                {t(step.text)}
              </Typography.Paragraph>
            </div>
          </div>
          {body}
        </Card>
      </Col>
    </Row>
  );
}
