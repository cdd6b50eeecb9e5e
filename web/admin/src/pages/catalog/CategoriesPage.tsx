import { DeleteOutlined, EditOutlined, PlusOutlined, TagsOutlined, ArrowLeftOutlined } from '@ant-design/icons';
import { App, Button, Card, Empty, Form, Input, InputNumber, Modal, Popconfirm, Select, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useCategories, useDeleteCategory, useSaveCategory } from '../../api/catalog';
import type { Category } from '../../api/types';
import { useShop } from '../../auth/ShopContext';
import { showFieldError } from '../../components/formErrors';
import { LinkButton } from '../../components/LinkButton';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState, QueryState, useErrorMessage } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { useLocalText } from './common';

interface CategoryValues {
  en: string;
  zh: string;
  parent_id?: number;
  sort: number;
}

export function CategoriesPage() {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const localText = useLocalText();
  const categories = useCategories(shop.slug);
  const save = useSaveCategory(shop.slug);
  const del = useDeleteCategory(shop.slug);
  const [editing, setEditing] = useState<Category | 'new' | null>(null);
  const [form] = Form.useForm<CategoryValues>();
  const [error, setError] = useState<unknown>(null);
  const writable = can('catalog:write');
  useDocumentTitle(t('catalog.categories'), shop.name);

  const open = (c: Category | 'new') => {
    setError(null);
    setEditing(c);
    form.setFieldsValue(
      c === 'new'
        ? { en: '', zh: '', parent_id: undefined, sort: 0 }
        : { en: c.name.en ?? '', zh: c.name['zh-CN'] ?? '', parent_id: c.parent_id ?? undefined, sort: c.sort },
    );
  };

  const submit = (v: CategoryValues) => {
    const name: Record<string, string> = {};
    if (v.en.trim()) name.en = v.en.trim();
    if (v.zh.trim()) name['zh-CN'] = v.zh.trim();
    save.mutate(
      { id: editing === 'new' || !editing ? null : editing.id, body: { name, parent_id: v.parent_id ?? null, sort: v.sort ?? 0 } },
      {
        onSuccess: () => {
          setEditing(null);
          void message.success(t('common.saved'));
        },
        onError: (e) => (showFieldError(form, e, { name: 'en' }) ? null : setError(e)),
      },
    );
  };

  return (
    <>
      <PageHeader
        title={t('catalog.categories')}
        icon={<TagsOutlined />}
        subtitle={t('categories.subtitle')}
        extra={
          <Space>
            <LinkButton icon={<ArrowLeftOutlined />} to={shopPath(shop.slug, 'catalog')}>
              {t('catalog.backToList')}
            </LinkButton>
            {writable && (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => open('new')} data-testid="new-category">
                {t('categories.new')}
              </Button>
            )}
          </Space>
        }
      />
      <Card>
        <QueryState
          query={categories}
          isEmpty={(cs) => cs.length === 0}
          empty={
            <Empty description={t('categories.empty')}>
              {writable && (
                <Button type="primary" icon={<PlusOutlined />} onClick={() => open('new')}>
                  {t('categories.new')}
                </Button>
              )}
            </Empty>
          }
        >
          {(cs) => (
            <Table<Category>
              rowKey="id"
              pagination={false}
              dataSource={cs}
              data-testid="category-table"
              columns={[
                { title: 'English', key: 'en', render: (_, c) => c.name.en || <Typography.Text type="secondary">—</Typography.Text> },
                { title: '简体中文', key: 'zh', render: (_, c) => c.name['zh-CN'] || <Typography.Text type="secondary">—</Typography.Text> },
                { title: t('categories.parent'), key: 'parent', render: (_, c) => (c.parent_id ? localText(cs.find((x) => x.id === c.parent_id)?.name) : '—') },
                { title: t('categories.sort'), dataIndex: 'sort', width: 90 },
                ...(writable
                  ? [
                      {
                        title: '',
                        key: 'actions',
                        width: 110,
                        render: (_: unknown, c: Category) => (
                          <Space>
                            <Button type="text" icon={<EditOutlined />} onClick={() => open(c)} aria-label={t('common.edit')} />
                            <Popconfirm
                              title={t('categories.deleteConfirm')}
                              okText={t('common.delete')}
                              cancelText={t('common.cancel')}
                              onConfirm={() => del.mutate(c.id, { onError: (e) => void message.error(errorMessage(e)) })}
                            >
                              <Button type="text" danger icon={<DeleteOutlined />} aria-label={t('common.delete')} />
                            </Popconfirm>
                          </Space>
                        ),
                      },
                    ]
                  : []),
              ]}
            />
          )}
        </QueryState>
      </Card>
      <Modal
        open={editing !== null}
        title={editing === 'new' ? t('categories.new') : t('categories.edit')}
        onCancel={() => setEditing(null)}
        onOk={() => form.submit()}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        confirmLoading={save.isPending}
        destroyOnHidden
        forceRender
      >
        <Form<CategoryValues> form={form} layout="vertical" onFinish={submit} name="category">
          <Form.Item name="en" label="English" rules={[{ validator: (_, v: string) => (v?.trim() || form.getFieldValue('zh')?.trim() ? Promise.resolve() : Promise.reject(new Error(t('categories.nameRequired')))) }]}>
            <Input maxLength={60} />
          </Form.Item>
          <Form.Item name="zh" label="简体中文">
            <Input maxLength={60} />
          </Form.Item>
          <Form.Item name="parent_id" label={t('categories.parent')}>
            <Select
              allowClear
              placeholder={t('categories.noParent')}
              options={(categories.data ?? []).filter((c) => editing === 'new' || c.id !== editing?.id).map((c) => ({ value: c.id, label: localText(c.name) }))}
            />
          </Form.Item>
          <Form.Item name="sort" label={t('categories.sort')}>
            <InputNumber />
          </Form.Item>
          {error ? <ErrorState error={error} variant="inline" /> : null}
        </Form>
      </Modal>
    </>
  );
}
