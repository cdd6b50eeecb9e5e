import { SolutionOutlined } from '@ant-design/icons';
import { Button } from 'antd';
import { Navigate, useNavigate } from 'react-router';
import { useSignedIn } from '../../auth/SessionContext';
import { useI18n } from '../../i18n/I18nProvider';
import { AgencyHomePage } from '../agency/AgencyHomePage';

/** /agency: the user's first agency (most people work for one). */
export function AgencyIndex() {
  const { session } = useSignedIn();
  const first = session.agencies[0];
  if (!first) return <Navigate to="/" replace />;
  return <Navigate to={`/agencies/${first.id}`} replace />;
}

/** /agencies/{id}: the agency's home (pages/agency). */
export const AgencyPage = AgencyHomePage;

/** Links to the agency homes of the signed-in user, for the shop lists. */
export function AgencyLinks() {
  const { t } = useI18n();
  const { session } = useSignedIn();
  const navigate = useNavigate();
  if (session.agencies.length === 0) return null;
  return (
    <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'center' }} data-testid="agency-links">
      {session.agencies.map((a) => (
        <Button key={a.id} icon={<SolutionOutlined />} onClick={() => void navigate(`/agencies/${a.id}`)} data-testid={`agency-link-${a.id}`}>
          {session.agencies.length > 1 ? t('agency.linkNamed', { agency: a.name }) : t('agency.link')}
        </Button>
      ))}
    </div>
  );
}
