package shop

import (
	"context"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
)

// logisticsZH is the Chinese of the logistics alerts' messages and of the
// upload and tracking errors stored in English that they quote. WeChat's
// and Kuaidi100's own texts (errmsg, traces) are kept as they are.
var logisticsZH = errs.NewCatalog(
	[2]string{"the order shipped but its shipping information was never uploaded to WeChat; the payment stays frozen", "订单已发货，但发货信息从未上传到微信；货款将一直冻结"},
	[2]string{"the shipping information upload to WeChat failed", "发货信息上传到微信失败"},
	[2]string{"the shipping information is not at WeChat yet", "发货信息尚未上传到微信"},
	[2]string{"not uploaded yet ({} tries): {}", "尚未上传（已尝试 {1} 次）：{r2}"},
	[2]string{"the shipping information could not be uploaded", "发货信息无法上传"},
	[2]string{"WeChat is not reachable; the upload will be retried", "无法连接微信，将自动重试上传"},
	[2]string{"Kuaidi100 refused the subscription ({}); the parcel is tracked by queries", "快递100拒绝了订阅（{1}）；改为查询方式跟踪包裹"},
	[2]string{"the tracking subscription will be retried: Kuaidi100 is not reachable", "无法连接快递100，将自动重试物流订阅"},
	[2]string{"Kuaidi100 query refused ({})", "快递100拒绝了查询（{1}）"},
)

// localizedAlerts returns alerts with their messages in the language of the
// request of ctx (a copy when it prefers Chinese).
func localizedAlerts(ctx context.Context, alerts []LogisticsAlert) []LogisticsAlert {
	if !httpx.Chinese(ctx) {
		return alerts
	}
	out := make([]LogisticsAlert, len(alerts))
	for i, a := range alerts {
		a.Message = logisticsZH.Or(a.Message)
		out[i] = a
	}
	return out
}
