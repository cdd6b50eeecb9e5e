package wechatpay

// MerchantIDs returns the merchant that signs requests (MchID, or SpMchID
// for a service provider) and the sub-merchant (empty unless partner or
// Global institutional mode): what a notification for this account names.
func (c *Client) MerchantIDs() (mchID, subMchID string) { return c.mchID, c.subMchID }

// OwnsTransaction reports whether t was made for this account: its mchid
// (direct, Global common mode), or its sp_mchid and sub_mchid.
func (c *Client) OwnsTransaction(t *Transaction) bool {
	if c.subMchID != "" {
		return t.SpMchID == c.mchID && t.SubMchID == c.subMchID
	}
	return t.MchID == c.mchID && t.SubMchID == ""
}

// OwnsRefund reports whether r was made for this account. Refund notices
// of a service provider may omit sp_mchid; sub_mchid must then match.
func (c *Client) OwnsRefund(r *RefundNotice) bool {
	if c.subMchID != "" {
		return r.SubMchID == c.subMchID && (r.SpMchID == "" || r.SpMchID == c.mchID)
	}
	return r.MchID == c.mchID && r.SubMchID == ""
}
