import { App } from 'antd';
import { useErrorMessage } from '../../components/States';
import { useI18n } from '../../i18n/I18nProvider';

/**
 * Asks before a destructive change: a danger confirm dialog that runs the
 * mutation, then says it is done (or shows the server's refusal).
 */
export function useConfirm() {
  const { t } = useI18n();
  const { modal, message } = App.useApp();
  const errorMessage = useErrorMessage();
  return (o: { title: string; content: string; okText: string; run: () => Promise<unknown>; done: string }) =>
    modal.confirm({
      title: o.title,
      content: o.content,
      okText: o.okText,
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: () =>
        o.run().then(
          () => void message.success(o.done),
          (e: unknown) => void message.error(errorMessage(e)),
        ),
    });
}
