import { CheckCircleOutlined } from '@ant-design/icons';
import { Button, Empty, Typography } from 'antd';
import { useI18n } from '../../i18n/I18nProvider';

/** The empty state of a list of problems: a green check, a title and what would appear here. */
export function AllClear({ title, text, testid }: { title: string; text: string; testid: string }) {
  return (
    <Empty
      image={<CheckCircleOutlined style={{ fontSize: 40, color: '#52c41a' }} />}
      styles={{ image: { height: 'auto' } }}
      data-testid={testid}
      description={
        <div>
          <Typography.Title level={5}>{title}</Typography.Title>
          <Typography.Paragraph type="secondary" style={{ maxWidth: 480, margin: '0 auto' }}>
            {text}
          </Typography.Paragraph>
        </div>
      }
    />
  );
}

/**
 * Previous / Next over a cursor-paged list: `cursors` is the stack of
 * cursors of the pages seen (empty on the first page), `next` the list's
 * cursor of the following page.
 */
export function CursorPager<C>({ cursors, next, onChange }: { cursors: C[]; next: C | null | undefined; onChange: (cursors: C[]) => void }) {
  const { t } = useI18n();
  if (cursors.length === 0 && (next === null || next === undefined)) return null;
  return (
    <div className="list-pager">
      <Button disabled={cursors.length === 0} onClick={() => onChange(cursors.slice(0, -1))}>
        {t('common.previous')}
      </Button>
      <Button disabled={next === null || next === undefined} onClick={() => next !== null && next !== undefined && onChange([...cursors, next])}>
        {t('common.next')}
      </Button>
    </div>
  );
}
