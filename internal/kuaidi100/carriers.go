package kuaidi100

import "sort"

// Carrier is a carrier Minishop ships with: its Kuaidi100 company code, the
// delivery id WeChat's shipping-information API knows it by (from
// get_delivery_list), its names, and whether queries need the consignee's
// phone.
type Carrier struct {
	Code      string `json:"code"`
	WeChatID  string `json:"wechat_id"`
	Name      string `json:"name"`
	NameZH    string `json:"name_zh"`
	NeedPhone bool   `json:"-"`
}

var carriers = map[string]Carrier{
	"shunfeng":       {"shunfeng", "SF", "SF Express", "顺丰速运", true},
	"yuantong":       {"yuantong", "YTO", "YTO Express", "圆通速递", false},
	"zhongtong":      {"zhongtong", "ZTO", "ZTO Express", "中通快递", true},
	"yunda":          {"yunda", "YD", "Yunda Express", "韵达快递", false},
	"shentong":       {"shentong", "STO", "STO Express", "申通快递", false},
	"ems":            {"ems", "EMS", "EMS", "EMS", false},
	"youzhengguonei": {"youzhengguonei", "YZPY", "China Post parcel", "邮政快递包裹", false},
	"jd":             {"jd", "JD", "JD Logistics", "京东物流", false},
	"jtexpress":      {"jtexpress", "JTSD", "J&T Express", "极兔速递", false},
	"debangkuaidi":   {"debangkuaidi", "DBL", "Deppon Express", "德邦快递", false},
}

// CarrierOf returns the carrier of a Kuaidi100 company code.
func CarrierOf(code string) (Carrier, bool) {
	c, ok := carriers[code]
	return c, ok
}

// CarrierCodes lists the supported company codes, sorted.
func CarrierCodes() []string {
	out := make([]string, 0, len(carriers))
	for k := range carriers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
