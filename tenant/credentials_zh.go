package tenant

import (
	"context"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
)

// verifyZH is the Chinese of the credentials check's messages (stored in
// English by check); WeChat's own errmsg is kept as it is.
var verifyZH = errs.NewCatalog(
	[2]string{"the saved values no longer pass the format check: {}", "已保存的值不再通过格式检查：{r1}"},
	[2]string{"the saved values no longer pass the format check", "已保存的值不再通过格式检查"},
	[2]string{"format checked; live check not available yet", "格式已检查；暂不支持在线校验"},
	[2]string{"WeChat issued an access token for AppID {}", "微信已为 AppID {1} 签发 access token"},
	[2]string{"the sandbox issued an access token for AppID {}", "沙箱已为 AppID {1} 签发 access token"},
	[2]string{"WeChat does not know AppID {} (errcode 40013)", "微信不认识 AppID {1}（errcode 40013）"},
	[2]string{"the sandbox does not know AppID {} (errcode 40013)", "沙箱不认识 AppID {1}（errcode 40013）"},
	[2]string{"WeChat refused the AppSecret for AppID {} (errcode {}); copy it again from the Mini Program console, or reset it there",
		"微信拒绝了 AppID {1} 的 AppSecret（errcode {2}）；请从小程序后台重新复制，或在那里重置"},
	[2]string{"the sandbox refused the AppSecret for AppID {} (errcode {}); copy it again from the Mini Program console, or reset it there",
		"沙箱拒绝了 AppID {1} 的 AppSecret（errcode {2}）；请从小程序后台重新复制，或在那里重置"},
	[2]string{"this server's IP address is not in the Mini Program's IP whitelist (errcode 40164): {}", "本服务器的 IP 地址不在小程序的 IP 白名单中（errcode 40164）：{1}"},
	[2]string{"WeChat answered errcode {}: {}", "微信返回 errcode {1}：{2}"},
	[2]string{"the sandbox answered errcode {}: {}", "沙箱返回 errcode {1}：{2}"},
	[2]string{"WeChat could not be reached; verify again later ({})", "无法连接微信，请稍后重新校验（{1}）"},
	[2]string{"the sandbox could not be reached; verify again later ({})", "无法连接沙箱，请稍后重新校验（{1}）"},
	[2]string{"the check could not be made ({})", "无法完成校验（{1}）"},
	[2]string{"the stored secrets could not be decrypted; save the credentials again or contact support", "无法解密已保存的密钥；请重新保存凭证或联系客服"},
)

// localizeVerifications puts the credentials check's messages of o in the
// language of the request of ctx.
func localizeVerifications(ctx context.Context, o *CredentialsOverview) {
	if o == nil || !httpx.Chinese(ctx) {
		return
	}
	for _, byKind := range o.Credentials {
		for _, set := range byKind {
			if set != nil && set.Verification != nil {
				v := *set.Verification
				v.Message = verifyZH.Or(v.Message)
				set.Verification = &v
			}
		}
	}
}
