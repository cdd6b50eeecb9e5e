import { ComingSoonPage } from '../SectionPage';
import { sections, type Section } from '../../layout/sections';

const section = sections.find((s) => s.key === 'customs') as Section & { key: 'customs' };

/** /customs: orders whose customs documents need a person, and failed background tasks. */
export function CustomsPage() {
  return <ComingSoonPage section={section} />;
}
