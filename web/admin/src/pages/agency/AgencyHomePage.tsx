import { ShopOutlined, SolutionOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { Button, Col, Result, Row, Typography } from 'antd';
import { useEffect } from 'react';
import { useNavigate, useParams } from 'react-router';
import { sessionKey } from '../../api/session';
import { useAgency } from '../../api/team';
import { useSignedIn } from '../../auth/SessionContext';
import { RoleTag } from '../../components/Tags';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { BareLayout } from '../../layout/BareLayout';
import { ClientShops } from './ClientShops';
import { AgencyRequests, RequestForm } from './AgencyRequests';
import { AgencyTeam } from './AgencyTeam';
import './agency.css';

/** /agencies/{id}: the agency's home: client shops, requests to brands, its team. */
export function AgencyHomePage() {
  const { t } = useI18n();
  const { id = '' } = useParams();
  const { session, shops } = useSignedIn();
  const navigate = useNavigate();
  const agencyId = Number(id);
  const mine = session.agencies.find((a) => a.id === agencyId);
  const agency = useAgency(agencyId);
  const qc = useQueryClient();
  useDocumentTitle(mine ? mine.name : t('agency.title'));
  // A brand may have answered since the session was read: its shop joins the switcher.
  useEffect(() => {
    if (agency.dataUpdatedAt) void qc.invalidateQueries({ queryKey: sessionKey });
  }, [qc, agency.dataUpdatedAt]);

  if (!mine) {
    return (
      <BareLayout>
        <Result
          status="404"
          title={t('agency.notFoundTitle')}
          subTitle={t('agency.notFoundText')}
          extra={<Button onClick={() => void navigate('/')}>{t('common.back')}</Button>}
        />
      </BareLayout>
    );
  }
  const admin = mine.role === 'agency_admin';
  const ownShops = shops.filter((s) => !s.agency);
  return (
    <BareLayout>
      <div className="agency-home" data-testid="agency-page">
        <header className="agency-head">
          <span className="page-header-icon">
            <SolutionOutlined />
          </span>
          <div className="agency-head-title">
            <Typography.Title level={2} style={{ margin: 0 }} data-testid="agency-name">
              {mine.name}
            </Typography.Title>
            <Typography.Text type="secondary">
              {t('agency.subtitle')} · <RoleTag role={mine.role} />
            </Typography.Text>
          </div>
          {ownShops.length > 0 && (
            <Button icon={<ShopOutlined />} onClick={() => void navigate(ownShops.length === 1 ? `/s/${ownShops[0]!.slug}` : '/shops')}>
              {t('agencyHome.ownShops')}
            </Button>
          )}
        </header>
        <Row gutter={[24, 24]}>
          <Col xs={24} xl={16}>
            <ClientShops agencyId={agencyId} admin={admin} />
            <AgencyRequests agencyId={agencyId} admin={admin} query={agency} />
          </Col>
          <Col xs={24} xl={8}>
            <RequestForm agencyId={agencyId} admin={admin} />
            <AgencyTeam agencyId={agencyId} admin={admin} query={agency} />
          </Col>
        </Row>
      </div>
    </BareLayout>
  );
}
