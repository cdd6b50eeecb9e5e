import { ComingSoonPage } from '../SectionPage';
import { sections, type Section } from '../../layout/sections';

const section = sections.find((s) => s.key === 'logistics') as Section & { key: 'logistics' };

/** /logistics: parcels, tracking and shipping-information alerts. */
export function LogisticsPage() {
  return <ComingSoonPage section={section} />;
}
