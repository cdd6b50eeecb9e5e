import { AuditOutlined, FilterOutlined, ReloadOutlined } from '@ant-design/icons';
import { Button, Card, DatePicker, Descriptions, Drawer, Empty, Input, Select, Space, Table, Tag, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { ACTOR_KINDS, useAudit, type ActorKind, type AuditEntry, type AuditFilter } from '../../api/audit';
import { useShop } from '../../auth/ShopContext';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';

const PAGE = 50;

/** Common action prefixes, for the filter; any prefix can be typed. */
const ACTIONS = ['member.', 'invitation.', 'token.', 'agency_access.', 'tenant.', 'credentials.', 'shop.', 'product.', 'category.', 'catalog.', 'warehouse.', 'stock.', 'post ', 'put ', 'delete '];

/** "42 anna@x.se" → "anna@x.se"; the token's id → "token 8". */
export function useActorLabel(): (e: Pick<AuditEntry, 'actor_kind' | 'actor_id'>) => string {
  const { t } = useI18n();
  return (e) => {
    if (e.actor_kind === 'user' || e.actor_kind === 'operator' || e.actor_kind === 'agency') {
      const sp = e.actor_id.indexOf(' ');
      if (sp > 0) return e.actor_id.slice(sp + 1);
      return /^\d+$/.test(e.actor_id) ? t('audit.actor.userId', { id: e.actor_id }) : e.actor_id;
    }
    if (e.actor_kind === 'token') return t('audit.actor.tokenId', { id: e.actor_id });
    if (e.actor_kind === 'system') return 'Minishop';
    return e.actor_id;
  };
}

/** A readable action: a known key's translation, else the raw action. */
function useActionLabel(): (action: string) => string {
  const { tMaybe } = useI18n();
  return (a) => tMaybe(`audit.action.${a}`, a);
}

export function AuditPage() {
  const { t, dateTime } = useI18n();
  const { shop } = useShop();
  useDocumentTitle(t('nav.audit'), shop.name);
  const actorLabel = useActorLabel();
  const actionLabel = useActionLabel();
  const [filter, setFilter] = useState<Omit<AuditFilter, 'before' | 'limit'>>({});
  const [cursors, setCursors] = useState<number[]>([]);
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const [selected, setSelected] = useState<AuditEntry | null>(null);
  const before = cursors[cursors.length - 1];
  const audit = useAudit(shop.slug, { ...filter, before, limit: PAGE });

  const apply = (f: Partial<AuditFilter>) => {
    setFilter((cur) => {
      const next = { ...cur, ...f };
      for (const k of Object.keys(next) as (keyof typeof next)[]) if (next[k] === '' || next[k] === undefined) delete next[k];
      return next;
    });
    setCursors([]);
  };
  const filtered = Object.keys(filter).length > 0;

  return (
    <>
      <PageHeader
        title={t('nav.audit')}
        subtitle={t('section.audit')}
        icon={<AuditOutlined />}
        extra={
          <Button icon={<ReloadOutlined />} onClick={() => void audit.refetch()} loading={audit.isFetching && !audit.isPending}>
            {t('audit.refresh')}
          </Button>
        }
      />
      <Card className="list-card" data-testid="audit-page">
        <Space wrap style={{ marginBottom: 16 }} className="list-toolbar">
          <FilterOutlined style={{ color: '#94a3b8' }} />
          <Select<ActorKind | ''>
            value={filter.actor_kind ?? ''}
            onChange={(v) => apply({ actor_kind: v || undefined })}
            style={{ width: 170 }}
            aria-label={t('audit.filter.actorKind')}
            options={[{ value: '', label: t('audit.filter.anyActor') }, ...ACTOR_KINDS.map((k) => ({ value: k, label: t(`audit.actor.${k}`) }))]}
            data-testid="audit-actor-kind"
          />
          <Input.Search
            allowClear
            placeholder={t('audit.filter.actorPlaceholder')}
            onSearch={(v) => apply({ actor_id: v.trim() })}
            style={{ width: 220 }}
            aria-label={t('audit.filter.actor')}
            data-testid="audit-actor"
          />
          <Select<string>
            showSearch
            allowClear
            value={filter.action}
            placeholder={t('audit.filter.actionPlaceholder')}
            onChange={(v) => apply({ action: v ?? '' })}
            style={{ width: 220 }}
            aria-label={t('audit.filter.action')}
            options={ACTIONS.map((a) => ({ value: a, label: a.endsWith('.') ? `${a}*` : a }))}
            data-testid="audit-action"
          />
          <DatePicker.RangePicker
            value={range}
            onChange={(v) => {
              setRange(v as [Dayjs | null, Dayjs | null] | null);
              apply({
                since: v?.[0] ? v[0].startOf('day').toISOString() : undefined,
                until: v?.[1] ? v[1].endOf('day').toISOString() : undefined,
              });
            }}
            allowEmpty={[true, true]}
            aria-label={t('audit.filter.dates')}
            data-testid="audit-dates"
          />
          {filtered && (
            <Button
              type="link"
              onClick={() => {
                setFilter({});
                setRange(null);
                setCursors([]);
              }}
            >
              {t('audit.filter.clear')}
            </Button>
          )}
        </Space>
        {audit.isError ? (
          <ErrorState error={audit.error} variant="inline" onRetry={() => void audit.refetch()} />
        ) : (
          <>
            <Table<AuditEntry>
              rowKey="id"
              loading={audit.isFetching}
              dataSource={audit.data?.entries ?? []}
              pagination={false}
              size="middle"
              scroll={{ x: 820 }}
              data-testid="audit-table"
              onRow={(e) => ({ onClick: () => setSelected(e), style: { cursor: 'pointer' } })}
              locale={{
                emptyText: audit.isPending ? ' ' : <Empty description={filtered ? t('audit.emptyFiltered') : t('audit.empty')} />,
              }}
              columns={[
                { title: t('audit.when'), dataIndex: 'created_at', width: 180, render: (v: string) => <span style={{ whiteSpace: 'nowrap' }}>{dateTime(v)}</span> },
                {
                  title: t('audit.who'),
                  key: 'who',
                  width: 260,
                  render: (_, e) => (
                    <Space size={6}>
                      <Tag bordered={false}>{t(`audit.actor.${e.actor_kind}`)}</Tag>
                      <Typography.Text ellipsis style={{ maxWidth: 180 }}>
                        {actorLabel(e)}
                      </Typography.Text>
                    </Space>
                  ),
                },
                {
                  title: t('audit.what'),
                  dataIndex: 'action',
                  render: (a: string) => (
                    <span style={{ display: 'flex', flexDirection: 'column' }}>
                      <Typography.Text strong>{actionLabel(a)}</Typography.Text>
                      {actionLabel(a) !== a && (
                        <Typography.Text type="secondary" className="mono" style={{ fontSize: 12 }}>
                          {a}
                        </Typography.Text>
                      )}
                    </span>
                  ),
                },
                { title: t('audit.object'), dataIndex: 'object', width: 200, render: (v: string) => <Typography.Text className="mono" ellipsis style={{ maxWidth: 190 }}>{v}</Typography.Text> },
                { title: t('audit.ip'), dataIndex: 'ip', width: 140, render: (v: string | null) => v ?? t('common.notAvailable') },
              ]}
            />
            <div style={{ display: 'flex', justifyContent: 'flex-end', gap: 8, marginTop: 16 }}>
              <Button disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))} data-testid="audit-prev">
                {t('common.previous')}
              </Button>
              <Button
                disabled={!audit.data?.next_before}
                onClick={() => audit.data?.next_before && setCursors((c) => [...c, audit.data.next_before as number])}
                data-testid="audit-next"
              >
                {t('common.next')}
              </Button>
            </div>
          </>
        )}
      </Card>
      <Drawer
        open={selected !== null}
        onClose={() => setSelected(null)}
        width={520}
        title={selected ? actionLabel(selected.action) : ''}
        data-testid="audit-detail"
        destroyOnHidden
      >
        {selected && <EntryDetails e={selected} />}
      </Drawer>
    </>
  );
}

function EntryDetails({ e }: { e: AuditEntry }) {
  const { t, dateTime } = useI18n();
  const actorLabel = useActorLabel();
  const diff = e.data && isFromTo(e.data) ? e.data : null;
  return (
    <>
      <Descriptions column={1} size="small" bordered>
        <Descriptions.Item label={t('audit.when')}>{dateTime(e.created_at)}</Descriptions.Item>
        <Descriptions.Item label={t('audit.who')}>
          <Tag bordered={false}>{t(`audit.actor.${e.actor_kind}`)}</Tag> {actorLabel(e)}
        </Descriptions.Item>
        <Descriptions.Item label={t('audit.action')}>
          <Typography.Text className="mono">{e.action}</Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t('audit.object')}>
          <Typography.Text className="mono" copyable>
            {e.object}
          </Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t('audit.ip')}>{e.ip ?? t('common.notAvailable')}</Descriptions.Item>
        <Descriptions.Item label={t('common.requestId')}>
          {e.request_id ? (
            <Typography.Text className="mono" copyable style={{ fontSize: 12 }}>
              {e.request_id}
            </Typography.Text>
          ) : (
            t('common.notAvailable')
          )}
        </Descriptions.Item>
      </Descriptions>
      <Typography.Title level={5} style={{ marginTop: 24 }}>
        {t('audit.details')}
      </Typography.Title>
      {diff ? (
        <Space size={8} wrap>
          <Tag color="red" bordered={false}>
            {String(diff.from ?? '—')}
          </Tag>
          →
          <Tag color="green" bordered={false}>
            {String(diff.to ?? '—')}
          </Tag>
        </Space>
      ) : null}
      {e.data ? (
        <pre className="mono" style={{ background: '#f8fafc', border: '1px solid #e2e8f0', borderRadius: 8, padding: 12, marginTop: 12, fontSize: 12, whiteSpace: 'pre-wrap', wordBreak: 'break-word' }} data-testid="audit-data">
          {JSON.stringify(e.data, null, 2)}
        </pre>
      ) : (
        <Typography.Text type="secondary">{t('audit.noDetails')}</Typography.Text>
      )}
    </>
  );
}

function isFromTo(d: Record<string, unknown>): d is { from?: unknown; to?: unknown } {
  return 'from' in d && 'to' in d && Object.keys(d).length <= 3;
}
