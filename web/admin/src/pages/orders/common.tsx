import { Tag } from 'antd';
import type { OrderStatus } from '../../api/orders';
import { useI18n } from '../../i18n/I18nProvider';

const colors: Record<string, string> = {
  pending_payment: 'gold',
  paid: 'success',
  declaring: 'processing',
  declared: 'cyan',
  customs_rejected: 'error',
  shipped: 'blue',
  delivered: 'geekblue',
  completed: 'green',
  cancelled: 'default',
  closed: 'default',
  refunding: 'orange',
  partially_refunded: 'purple',
  refunded: 'magenta',
};

export function OrderStatusTag({ status }: { status: OrderStatus | string }) {
  const { tMaybe } = useI18n();
  return (
    <Tag color={colors[status] ?? 'default'} bordered={false} data-testid="order-status" data-status={status}>
      {tMaybe(`order.status.${status}`, status)}
    </Tag>
  );
}
