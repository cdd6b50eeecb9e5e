package billing

// The WeChat Pay trade bill (交易账单), read as a stream: a detail header,
// detail rows whose every field starts with a backtick, a summary header
// and one summary row; UTF-8, possibly with a BOM, lines ending in CRLF or
// LF. Amounts are yuan with two decimals (the fee five) and are turned into
// integers by string arithmetic, never floats. Columns are found by their
// header name, so the ALL (27 columns) and SUCCESS (20) layouts both read.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// BillRow is one detail row. Amounts are fen; Fee is in units of 10⁻⁵
// yuan (the bill's precision: 0.001 fen), summed exactly and rounded once
// per day.
type BillRow struct {
	Line                                    int
	TradeTime                               time.Time
	AppID, MchID, SubMchID, DeviceInfo      string
	TransactionID, OutTradeNo, OpenID       string
	TradeType, TradeState, Bank, Currency   string
	SettlementFen, CouponFen                int64
	RefundID, OutRefundNo                   string
	RefundFen, RechargeRefundFen            int64
	RefundType, RefundStatus, Goods, Attach string
	Fee                                     int64
	Rate                                    string
	OrderFen, RequestedRefundFen            int64
	RateNote                                string
}

// IsRefund reports whether the row is a refund (交易状态 REFUND).
func (r *BillRow) IsRefund() bool { return r.TradeState == "REFUND" }

// BillSummary is the summary row, in the same units as BillRow.
type BillSummary struct {
	Count                        int64
	SettlementFen, RefundFen     int64
	RechargeRefundFen, Fee       int64
	OrderFen, RequestedRefundFen int64
}

// BillError is a bill that cannot be read; Line is 1-based.
type BillError struct {
	Line int
	Msg  string
}

func (e *BillError) Error() string { return fmt.Sprintf("trade bill line %d: %s", e.Line, e.Msg) }

// Header names of the detail and summary parts.
const (
	colTradeTime = "交易时间"
	colCount     = "总交易单数"
)

// maxBillLine bounds one line (a goods name is at most 127 bytes; a row
// is far below this).
const maxBillLine = 16 << 10

// cst is China Standard Time, the zone of the bill's times and days.
var cst = time.FixedZone("CST", 8*3600)

// BillReader reads a trade bill row by row.
type BillReader struct {
	r        *bufio.Reader
	line     int
	cols     map[string]int
	ncols    int
	summary  *BillSummary
	done     bool
	fieldBuf []string
}

// NewBillReader reads the bill in r (uncompressed).
func NewBillReader(r io.Reader) *BillReader {
	return &BillReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// readLine returns the next line without its end, or io.EOF.
func (b *BillReader) readLine() (string, error) {
	var buf []byte
	for {
		chunk, err := b.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxBillLine {
			b.line++
			return "", &BillError{b.line, fmt.Sprintf("line longer than %d bytes", maxBillLine)}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(buf) == 0 {
			return "", io.EOF
		}
		if err != nil && err != io.EOF {
			return "", err
		}
		b.line++
		s := string(bytes.TrimRight(buf, "\r\n"))
		if b.line == 1 {
			s = strings.TrimPrefix(s, "\uFEFF")
		}
		return s, nil
	}
}

// Next returns the next detail row; io.EOF after the last one, once the
// summary row was read (Summary); a *BillError for a malformed bill.
func (b *BillReader) Next() (*BillRow, error) {
	if b.done {
		return nil, io.EOF
	}
	for {
		s, err := b.readLine()
		if err == io.EOF {
			b.done = true
			if b.cols == nil {
				return nil, &BillError{b.line, "empty bill: no header row"}
			}
			if b.summary == nil {
				return nil, &BillError{b.line, "the bill ends without its summary row"}
			}
			return nil, io.EOF
		}
		if err != nil {
			b.done = true
			return nil, err
		}
		if strings.TrimSpace(s) == "" {
			continue
		}
		if b.cols == nil {
			if err := b.header(s); err != nil {
				b.done = true
				return nil, err
			}
			continue
		}
		if strings.HasPrefix(s, colCount) {
			if err := b.readSummary(s); err != nil {
				b.done = true
				return nil, err
			}
			continue
		}
		if b.summary != nil {
			b.done = true
			return nil, &BillError{b.line, "a row after the summary"}
		}
		row, err := b.row(s)
		if err != nil {
			b.done = true
			return nil, err
		}
		return row, nil
	}
}

// Summary is the summary row, once Next returned io.EOF.
func (b *BillReader) Summary() *BillSummary { return b.summary }

func (b *BillReader) header(s string) error {
	names := strings.Split(s, ",")
	if len(names) == 0 || names[0] != colTradeTime {
		return &BillError{b.line, "the first line is not the trade bill header (交易时间,…)"}
	}
	b.cols = map[string]int{}
	for i, n := range names {
		b.cols[strings.TrimSpace(n)] = i
	}
	for _, need := range []string{"微信订单号", "商户订单号", "交易状态", "应结订单金额", "手续费"} {
		if _, ok := b.cols[need]; !ok {
			return &BillError{b.line, "the header lacks the column " + need}
		}
	}
	b.ncols = len(names)
	return nil
}

// fields splits a row whose every field starts with a backtick. A comma
// not followed by a backtick (in a goods name) stays in its field.
func (b *BillReader) fields(s string) ([]string, error) {
	if !strings.HasPrefix(s, "`") {
		return nil, &BillError{b.line, "a field does not start with a backtick"}
	}
	f := b.fieldBuf[:0]
	s = s[1:]
	for {
		i := strings.Index(s, ",`")
		if i < 0 {
			f = append(f, s)
			break
		}
		f = append(f, s[:i])
		s = s[i+2:]
	}
	b.fieldBuf = f
	return f, nil
}

func (b *BillReader) row(s string) (*BillRow, error) {
	f, err := b.fields(s)
	if err != nil {
		return nil, err
	}
	if len(f) != b.ncols {
		return nil, &BillError{b.line, fmt.Sprintf("%d fields, the header has %d", len(f), b.ncols)}
	}
	get := func(name string) string {
		if i, ok := b.cols[name]; ok {
			return f[i]
		}
		return ""
	}
	var bad error
	amount := func(name string, scale int) int64 {
		v := get(name)
		if v == "" || bad != nil {
			return 0
		}
		n, err := ParseDecimal(v, scale)
		if err != nil {
			bad = &BillError{b.line, fmt.Sprintf("%s %q: %v", name, v, err)}
		}
		return n
	}
	r := &BillRow{Line: b.line,
		AppID: get("公众账号ID"), MchID: get("商户号"), SubMchID: get("特约商户号"), DeviceInfo: get("设备号"),
		TransactionID: get("微信订单号"), OutTradeNo: get("商户订单号"), OpenID: get("用户标识"),
		TradeType: get("交易类型"), TradeState: get("交易状态"), Bank: get("付款银行"), Currency: get("货币种类"),
		RefundID: get("微信退款单号"), OutRefundNo: get("商户退款单号"), RefundType: get("退款类型"), RefundStatus: get("退款状态"),
		Goods: get("商品名称"), Attach: get("商户数据包"), Rate: get("费率"), RateNote: get("费率备注"),
	}
	r.SettlementFen = amount("应结订单金额", 2)
	r.CouponFen = amount("代金券金额", 2)
	r.RefundFen = amount("退款金额", 2)
	r.RechargeRefundFen = amount("充值券退款金额", 2)
	r.Fee = amount("手续费", 5)
	r.OrderFen = amount("订单金额", 2)
	r.RequestedRefundFen = amount("申请退款金额", 2)
	if bad != nil {
		return nil, bad
	}
	if r.RefundID == "0" {
		r.RefundID = ""
	}
	if r.OutRefundNo == "0" {
		r.OutRefundNo = ""
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", get(colTradeTime), cst)
	if err != nil {
		return nil, &BillError{b.line, fmt.Sprintf("交易时间 %q is not YYYY-MM-DD hh:mm:ss", get(colTradeTime))}
	}
	r.TradeTime = t
	if r.TransactionID == "" || r.OutTradeNo == "" {
		return nil, &BillError{b.line, "微信订单号 and 商户订单号 are required"}
	}
	if r.IsRefund() && r.OutRefundNo == "" {
		return nil, &BillError{b.line, "a REFUND row without 商户退款单号"}
	}
	return r, nil
}

func (b *BillReader) readSummary(header string) error {
	if b.summary != nil {
		return &BillError{b.line, "a second summary"}
	}
	names := strings.Split(header, ",")
	s, err := b.readLine()
	if err == io.EOF {
		return &BillError{b.line, "the summary header is not followed by the summary row"}
	}
	if err != nil {
		return err
	}
	f, err := b.fields(s)
	if err != nil {
		return err
	}
	if len(f) != len(names) {
		return &BillError{b.line, fmt.Sprintf("the summary row has %d fields, its header %d", len(f), len(names))}
	}
	sum := &BillSummary{}
	for i, n := range names {
		var dst *int64
		scale := 2
		switch strings.TrimSpace(n) {
		case colCount:
			c, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil || c < 0 {
				return &BillError{b.line, fmt.Sprintf("总交易单数 %q is not a count", f[i])}
			}
			sum.Count = c
			continue
		case "应结订单总金额":
			dst = &sum.SettlementFen
		case "退款总金额":
			dst = &sum.RefundFen
		case "充值券退款总金额":
			dst = &sum.RechargeRefundFen
		case "手续费总金额":
			dst, scale = &sum.Fee, 5
		case "订单总金额":
			dst = &sum.OrderFen
		case "申请退款总金额":
			dst = &sum.RequestedRefundFen
		default:
			continue
		}
		v, err := ParseDecimal(f[i], scale)
		if err != nil {
			return &BillError{b.line, fmt.Sprintf("%s %q: %v", n, f[i], err)}
		}
		*dst = v
	}
	b.summary = sum
	return nil
}

var errDecimal = errors.New("not a decimal amount")

// ParseDecimal reads a decimal like "-12.34" as an integer in units of
// 10^-scale ("12.34" with scale 2 is 1234). At most scale decimals; at most
// 15 integer digits. No floats are involved.
func ParseDecimal(s string, scale int) (int64, error) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" || len(ip) > 15 || len(fp) > scale || strings.Contains(s, ".") && fp == "" {
		return 0, errDecimal
	}
	var n int64
	for _, c := range ip + fp + strings.Repeat("0", scale-len(fp)) {
		if c < '0' || c > '9' {
			return 0, errDecimal
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// FormatDecimal is the inverse of ParseDecimal: n units of 10^-scale as a
// decimal with exactly scale decimals.
func FormatDecimal(n int64, scale int) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := strconv.FormatInt(n, 10)
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	if scale == 0 {
		return sign + s
	}
	return sign + s[:len(s)-scale] + "." + s[len(s)-scale:]
}

// FeeFen rounds a fee in 10⁻⁵ yuan to fen, half away from zero: the one
// place fees are rounded.
func FeeFen(fee int64) int64 {
	if fee < 0 {
		return -FeeFen(-fee)
	}
	return (fee + 500) / 1000
}
