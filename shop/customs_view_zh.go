package shop

import (
	"context"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
)

// customsZH is the Chinese of the customs view's texts (attentionOf's
// reasons and actions). Customs' own receipt texts are Chinese already and
// stay as they are; an English error inside a reason (last_error) is
// translated when the catalog of errs knows it and kept otherwise.
var customsZH = errs.NewCatalog(
	[2]string{"order declaration", "订单申报"},
	[2]string{"payment declaration", "支付申报"},
	[2]string{"waybill", "运单"},
	[2]string{"inventory list", "清单"},

	[2]string{"The buyer is not the payer: customs requires the person who pays to be the buyer named on the order.", "订购人与支付人不一致：海关要求支付人必须是订单上的订购人。"},
	[2]string{"Ask the buyer to pay with their own WeChat account, or refund the order.", "请买家用本人的微信账户支付，或为订单退款。"},
	[2]string{"The buyer is over the yearly cross-border allowance (¥26,000) or the per-order limit.", "订购人超出了跨境电商年度交易限值（¥26,000）或单次交易限值。"},
	[2]string{"Refund the order: customs will not clear it.", "请为订单退款：海关不会放行。"},
	[2]string{"The buyer's real name and ID number do not match the national register.", "订购人的姓名与身份证号和国家登记信息不一致。"},
	[2]string{"Ask the buyer to correct their real name and ID number, then declare again.", "请买家更正姓名和身份证号，然后重新申报。"},
	[2]string{"A product is not registered for cross-border import, or not on the positive list.", "有商品未做跨境进口备案，或不在正面清单内。"},
	[2]string{"Correct the product's customs data (item record number, HS code), then declare again.", "请更正商品的报关资料（备案号、HS 编码），然后重新申报。"},
	[2]string{"The amounts of the documents do not match each other (price, freight, tax or amount paid).", "各单据的金额互不一致（价格、运费、税费或实付金额）。"},
	[2]string{"Declare again; if customs rejects it again, check the order's prices, freight and tax.", "请重新申报；如海关再次退单，请检查订单的价格、运费和税费。"},
	[2]string{"Declare again.", "请重新申报。"},
	[2]string{"Declare the order again: the agent declares the {} again once customs accepts it. If it is rejected again, ask your declaration agent.",
		"请重新申报订单：海关通过后，代理会重新申报{t1}。如再次被退单，请联系报关代理。"},
	[2]string{"Customs rejected the {}: {}", "海关退回了{t1}：{2}"},
	[2]string{"The {} was not sent: {}", "{t1}未能发送：{r2}"},
	[2]string{"Check the order's customs data and the shop's customs settings, then declare again.", "请检查订单的报关资料和店铺的海关设置，然后重新申报。"},
	[2]string{"The e-port could not pass the {} to customs: {}", "电子口岸未能将{t1}转交海关：{2}"},
	[2]string{"Save the shop's live customs credentials; the declaration is then sent by itself.", "请保存店铺的正式海关凭证；之后申报会自动发送。"},
	[2]string{"The {} could not be sent yet: {}", "{t1}暂未发送成功：{r2}"},
	[2]string{"Wait: it is sent again automatically until the declaration agent answers.", "请等待：报关代理应答前会自动重发。"},
	[2]string{"Customs detained the parcel: {}", "海关扣留了包裹：{1}"},
	[2]string{"Ask your declaration agent what customs needs to release it.", "请向报关代理了解海关放行还需要什么。"},
	[2]string{"Customs is reviewing or inspecting the parcel since {}.", "海关自 {1} 起正在审核或查验包裹。"},
	[2]string{"Wait: customs decides after its review; nothing to do yet.", "请等待：海关审核后会作出决定，目前无需操作。"},
	[2]string{"The e-port has not answered the order declaration since {}, after {} sends.", "订单申报已发送 {2} 次，自 {1} 起电子口岸仍未应答。"},
	[2]string{"Ask your declaration agent whether the e-port received it.", "请向报关代理确认电子口岸是否已收到。"},
	[2]string{"The {} is waiting to be sent since {}.", "{t1}自 {2} 起等待发送。"},
	[2]string{"Wait: it is sent in the background and retried while the agent cannot be reached.", "请等待：系统在后台发送，代理无法连接时会自动重试。"},
	[2]string{"No answer from customs about the {} since {}.", "自 {2} 起海关没有{t1}的回执。"},
	[2]string{"Wait: customs answers are fetched every minute. If nothing comes within a day, ask your declaration agent.",
		"请等待：系统每分钟获取一次海关回执。如一天内仍无回执，请联系报关代理。"},

	// What the payment declaration's "receipts" say: WeChat Pay's answers in our words.
	[2]string{"WeChat Pay declared the payment to customs", "微信支付已向海关申报支付单"},
	[2]string{"WeChat Pay could not declare the payment to customs ({}): {}", "微信支付未能向海关申报支付单（{1}）：{r2}"},
	[2]string{"WeChat Pay is submitting the payment to customs", "微信支付正在向海关提交支付单"},
	[2]string{"WeChat Pay accepted the declaration and will submit it in its next batch", "微信支付已受理申报，将在下一批次提交"},
)

// localized returns the attention in the language of the request of ctx:
// Chinese texts when it prefers Chinese, else a as it is.
func (a *CustomsAttention) localized(ctx context.Context) *CustomsAttention {
	if a == nil || !httpx.Chinese(ctx) {
		return a
	}
	c := *a
	c.Reason, c.ActionText = customsZH.Or(a.Reason), customsZH.Or(a.ActionText)
	return &c
}

// localizeTexts puts the view's texts in the language of the request of
// ctx: the attention of each document, and what our code wrote as receipts
// and errors (customs' own receipt texts match nothing and stay).
func (v *CustomsView) localizeTexts(ctx context.Context) {
	if v == nil || !httpx.Chinese(ctx) {
		return
	}
	docs := func(ds []CustomsDocument) {
		for i := range ds {
			localizeDoc(ctx, &ds[i])
		}
	}
	docs(v.Documents)
	for i := range v.SubOrders {
		docs(v.SubOrders[i].Documents)
	}
	if o := v.Order; o != nil {
		o.LastInfo, o.LastError = customsZH.Or(o.LastInfo), customsZH.Or(o.LastError)
		localizeReceipts(o.Receipts)
	}
}

func localizeDoc(ctx context.Context, d *CustomsDocument) {
	d.Attention = d.Attention.localized(ctx)
	d.LastError = customsZH.Or(d.LastError)
	if d.LastReceipt != nil {
		r := *d.LastReceipt
		r.Info = customsZH.Or(r.Info)
		d.LastReceipt = &r
	}
	localizeReceipts(d.Receipts)
}

func localizeReceipts(rs []CustomsReceipt) {
	for i := range rs {
		rs[i].ReturnInfo = customsZH.Or(rs[i].ReturnInfo)
	}
}

// localized returns the queue document in the language of the request of ctx.
func (q CustomsQueueDoc) localized(ctx context.Context) CustomsQueueDoc {
	if !httpx.Chinese(ctx) {
		return q
	}
	q.CustomsAttention = *q.CustomsAttention.localized(ctx)
	q.LastError = customsZH.Or(q.LastError)
	if q.LastReceipt != nil {
		r := *q.LastReceipt
		r.Info = customsZH.Or(r.Info)
		q.LastReceipt = &r
	}
	return q
}
