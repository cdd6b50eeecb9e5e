package tenant

import (
	"context"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
)

// tasksZH is the Chinese of the failed tasks' labels and of what they say
// beyond their errors (which the catalog of errs translates).
var tasksZH = errs.NewCatalog(
	[2]string{"an unexpected error on our side (reference task {})", "我方出现意外错误（任务编号 {1}）"},
	[2]string{"{} failed: {}", "{t1}失败：{r2}"},
	[2]string{"automatic refund", "自动退款"},
	[2]string{"refund", "退款"},
	[2]string{"customs declaration", "海关申报"},
	[2]string{"customs payment declaration", "支付申报"},
	[2]string{"shipping-info upload", "发货信息上传"},
	[2]string{"parcel tracking", "物流跟踪"},
	[2]string{"catalog import", "商品导入"},
	[2]string{"reconciliation", "对账"},
	[2]string{"credentials check", "凭证校验"},
	[2]string{"shop setup", "店铺开通"},
	[2]string{"shipment", "发货"},
	[2]string{"order task", "订单任务"},
	[2]string{"background task", "后台任务"},
)

// localizedTasks returns the page with its tasks' label, message and error
// in Chinese when the request of ctx prefers it (where the catalogs know
// them); otherwise page as it is.
func localizedTasks(ctx context.Context, page *TaskPage) *TaskPage {
	if page == nil || !httpx.Chinese(ctx) {
		return page
	}
	c := *page
	c.Tasks = make([]Task, len(page.Tasks))
	for i, t := range page.Tasks {
		t.Label, t.Message, t.Error = tasksZH.Or(t.Label), tasksZH.Or(t.Message), tasksZH.Or(t.Error)
		c.Tasks[i] = t
	}
	return &c
}
