package billing

// Daily reconciliation: the WeChat Pay trade bill of a tenant's day (China
// time) against the payments and refunds we recorded. The bill is read as a
// stream; what is kept in memory is our side of the day (bounded by the
// shop's own volume), a batch of unknown rows and a batch of discrepancies,
// never the bill.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// Discrepancy kinds.
const (
	MissingWithUs  = "missing_with_us" // in the bill, not with us
	MissingInBill  = "missing_in_bill" // with us, not in the bill
	AmountMismatch = "amount_mismatch"
	StatusMismatch = "status_mismatch"
	RefundMismatch = "refund_mismatch" // a refund in the bill we have no record of, or of another amount
)

// Discrepancy states.
const (
	StateOpen         = "open"
	StateAutoResolved = "auto_resolved"
	StateResolved     = "resolved"
)

// Discrepancy is one difference between the bill and our records.
// Reference is the out_trade_no (payments) or out_refund_no (refunds).
type Discrepancy struct {
	ID          int64           `json:"id"`
	Date        string          `json:"date"`
	Kind        string          `json:"kind"`
	Reference   string          `json:"reference"`
	Evidence    json.RawMessage `json:"evidence"`
	Explanation string          `json:"explanation"`
	State       string          `json:"state"`
	Note        string          `json:"note"`
	ResolvedBy  string          `json:"resolved_by"`
	ResolvedAt  *time.Time      `json:"resolved_at"`
}

// Totals are a day's sums in fen. Fee is rounded once, from the bill's
// 10⁻⁵ yuan; NetSettlement = BillPayments - BillRefunds - BillFee.
type Totals struct {
	BillRows      int64 `json:"bill_rows"`
	BillPayments  int64 `json:"bill_payments"`
	BillRefunds   int64 `json:"bill_refunds"`
	BillFee       int64 `json:"bill_fee"`
	NetSettlement int64 `json:"net_settlement"`
	OurPayments   int64 `json:"our_payments"`
	OurRefunds    int64 `json:"our_refunds"`
}

// Run is the outcome of reconciling a day.
type Run struct {
	Date            string    `json:"date"`
	Status          string    `json:"status"` // running, matched, discrepancies, failed
	Totals                    // embedded: the sums
	SummaryProblems []string  `json:"summary_problems"`
	Open            int       `json:"open"`
	Error           string    `json:"error"`
	Runs            int       `json:"runs"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// OurPayment is a payment as we recorded it.
type OurPayment struct {
	TransactionID, OutTradeNo string
	Amount                    int64
	Disposition               string
}

// OurRefund is a refund as we recorded it.
type OurRefund struct {
	OutRefundNo, OutTradeNo, Status string
	Amount                          int64
}

// Book is our side of the records, as the matcher reads it.
type Book interface {
	// Day returns the payments and refunds we recorded for the day
	// (payments by transaction id, refunds by out_refund_no).
	Day(ctx context.Context, day time.Time) (map[string]OurPayment, map[string]OurRefund, error)
	// Find returns those of the given payments and refunds we recorded on
	// any day (rows of the bill not in the day's set).
	Find(ctx context.Context, txnIDs, outRefundNos []string) (map[string]OurPayment, map[string]OurRefund, error)
}

// Matcher compares one bill with our records. Heal, if set, is asked about
// a payment in the bill we have no record of (a lost notification); it
// returns the evidence of what it did and true when it recorded the
// payment. Emit receives each discrepancy.
type Matcher struct {
	Book Book
	Heal func(ctx context.Context, row *BillRow) (evidence map[string]any, healed bool, err error)
	Emit func(ctx context.Context, d Discrepancy) error
}

const lookupBatch = 500

// Match reads the bill in r (uncompressed; nil is a day without a bill)
// and reports discrepancies through m.Emit. It returns the day's totals
// and the problems of the bill's summary. A bill that cannot be read is a
// *BillError.
func (m *Matcher) Match(ctx context.Context, day time.Time, r io.Reader) (Totals, []string, error) {
	var t Totals
	pays, refunds, err := m.Book.Day(ctx, day)
	if err != nil {
		return t, nil, err
	}
	for _, p := range pays {
		t.OurPayments += p.Amount
	}
	for _, rf := range refunds {
		t.OurRefunds += rf.Amount
	}
	date := day.Format("2006-01-02")
	emit := func(kind, ref, expl string, ev map[string]any, state string) error {
		b, _ := json.Marshal(ev)
		return m.Emit(ctx, Discrepancy{Date: date, Kind: kind, Reference: ref, Evidence: b, Explanation: expl, State: state})
	}
	rowEv := func(r *BillRow) map[string]any {
		ev := map[string]any{"bill_line": r.Line, "transaction_id": r.TransactionID, "out_trade_no": r.OutTradeNo,
			"trade_state": r.TradeState, "trade_time": r.TradeTime.Format(time.RFC3339), "bill_amount": r.SettlementFen}
		if r.IsRefund() {
			ev["out_refund_no"], ev["refund_id"], ev["bill_refund"], ev["refund_status"] = r.OutRefundNo, r.RefundID, r.RefundFen, r.RefundStatus
		}
		return ev
	}
	comparePay := func(r *BillRow, p OurPayment) error {
		if p.Amount != r.SettlementFen {
			ev := rowEv(r)
			ev["our_amount"] = p.Amount
			return emit(AmountMismatch, r.OutTradeNo, fmt.Sprintf("the bill says %s yuan, we recorded %s yuan", FormatDecimal(r.SettlementFen, 2), FormatDecimal(p.Amount, 2)), ev, StateOpen)
		}
		return nil
	}
	compareRefund := func(r *BillRow, rf OurRefund) error {
		ev := rowEv(r)
		ev["our_refund"], ev["our_status"] = rf.Amount, rf.Status
		switch {
		case rf.Amount != r.RefundFen:
			return emit(RefundMismatch, r.OutRefundNo, fmt.Sprintf("the bill refunds %s yuan, we recorded %s yuan", FormatDecimal(r.RefundFen, 2), FormatDecimal(rf.Amount, 2)), ev, StateOpen)
		case r.RefundStatus == "SUCCESS" && rf.Status != "succeeded":
			return emit(StatusMismatch, r.OutRefundNo, "the bill shows the refund succeeded; we still have it as "+rf.Status+" (its notification may be late or lost)", ev, StateOpen)
		}
		return nil
	}
	var pending []*BillRow
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		var txns, rnos []string
		for _, r := range pending {
			if r.IsRefund() {
				rnos = append(rnos, r.OutRefundNo)
			} else {
				txns = append(txns, r.TransactionID)
			}
		}
		fp, fr, err := m.Book.Find(ctx, txns, rnos)
		if err != nil {
			return err
		}
		for _, r := range pending {
			if r.IsRefund() {
				if rf, ok := fr[r.OutRefundNo]; ok {
					if err := compareRefund(r, rf); err != nil {
						return err
					}
					continue
				}
				if err := emit(RefundMismatch, r.OutRefundNo, "the bill has a refund we have no record of", rowEv(r), StateOpen); err != nil {
					return err
				}
				continue
			}
			if p, ok := fp[r.TransactionID]; ok {
				if err := comparePay(r, p); err != nil {
					return err
				}
				continue
			}
			ev := rowEv(r)
			state, expl := StateOpen, "the bill has a payment we have no record of"
			if m.Heal != nil {
				hev, healed, err := m.Heal(ctx, r)
				if err != nil {
					return err
				}
				ev["heal"] = hev
				if healed {
					state, expl = StateAutoResolved, "the payment's notification never reached us; WeChat Pay confirmed it and the order was marked paid"
				}
			}
			if err := emit(MissingWithUs, r.OutTradeNo, expl, ev, state); err != nil {
				return err
			}
		}
		pending = pending[:0]
		return nil
	}

	var rowRefundFen, rowSettle, rowFee, rowOrder, rowReqRefund int64
	var summary *BillSummary
	if r != nil {
		br := NewBillReader(r)
		for {
			row, err := br.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return t, nil, err
			}
			t.BillRows++
			rowSettle += row.SettlementFen
			rowRefundFen += row.RefundFen
			rowFee += row.Fee
			rowOrder += row.OrderFen
			rowReqRefund += row.RequestedRefundFen
			if row.IsRefund() {
				t.BillRefunds += row.RefundFen
				if rf, ok := refunds[row.OutRefundNo]; ok {
					delete(refunds, row.OutRefundNo)
					if err := compareRefund(row, rf); err != nil {
						return t, nil, err
					}
					continue
				}
			} else {
				t.BillPayments += row.SettlementFen
				if p, ok := pays[row.TransactionID]; ok {
					delete(pays, row.TransactionID)
					if err := comparePay(row, p); err != nil {
						return t, nil, err
					}
					continue
				}
			}
			pending = append(pending, row)
			if len(pending) >= lookupBatch {
				if err := flush(); err != nil {
					return t, nil, err
				}
			}
		}
		summary = br.Summary()
	}
	if err := flush(); err != nil {
		return t, nil, err
	}
	for _, p := range pays {
		ev := map[string]any{"transaction_id": p.TransactionID, "out_trade_no": p.OutTradeNo, "our_amount": p.Amount, "disposition": p.Disposition}
		if err := emit(MissingInBill, p.OutTradeNo, "we recorded this payment; the bill of the day does not have it", ev, StateOpen); err != nil {
			return t, nil, err
		}
	}
	for _, rf := range refunds {
		ev := map[string]any{"out_refund_no": rf.OutRefundNo, "out_trade_no": rf.OutTradeNo, "our_refund": rf.Amount, "our_status": rf.Status}
		if err := emit(MissingInBill, rf.OutRefundNo, "we recorded this refund as succeeded; the bill of the day does not have it", ev, StateOpen); err != nil {
			return t, nil, err
		}
	}
	t.BillFee = FeeFen(rowFee)
	t.NetSettlement = t.BillPayments - t.BillRefunds - t.BillFee
	var problems []string
	if summary != nil {
		check := func(what string, sum, rows int64, scale int) {
			if sum != rows {
				problems = append(problems, fmt.Sprintf("the summary's %s is %s, its rows add up to %s", what, FormatDecimal(sum, scale), FormatDecimal(rows, scale)))
			}
		}
		check("row count", summary.Count, t.BillRows, 0)
		check("settlement total (应结订单总金额)", summary.SettlementFen, rowSettle, 2)
		check("refund total (退款总金额)", summary.RefundFen, rowRefundFen, 2)
		check("fee total (手续费总金额)", summary.Fee, rowFee, 5)
		check("order total (订单总金额)", summary.OrderFen, rowOrder, 2)
		check("requested refund total (申请退款总金额)", summary.RequestedRefundFen, rowReqRefund, 2)
	}
	if t.BillPayments != t.OurPayments {
		problems = append(problems, fmt.Sprintf("the bill's payments are %s yuan, ours %s yuan", FormatDecimal(t.BillPayments, 2), FormatDecimal(t.OurPayments, 2)))
	}
	if t.BillRefunds != t.OurRefunds {
		problems = append(problems, fmt.Sprintf("the bill's refunds are %s yuan, ours %s yuan", FormatDecimal(t.BillRefunds, 2), FormatDecimal(t.OurRefunds, 2)))
	}
	return t, problems, nil
}

// Reconciler reconciles tenants' days against the database and WeChat Pay.
type Reconciler struct {
	DB *gorm.DB
	// Client returns the WeChat Pay client of the tenant in ctx.
	Client func(ctx context.Context) (*wechatpay.Client, error)
	// Paid records a payment (shop.Service.MarkPaid); nil: no healing.
	Paid func(ctx context.Context, tenantID int64, outTradeNo, transactionID string, amountFen int64, paidAt time.Time) error
	Log  *slog.Logger
}

// ParseDay reads a YYYY-MM-DD day as a China day; invalid otherwise, and
// for a day that has not started yet in China.
func ParseDay(s string) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", s, cst)
	if err != nil {
		return time.Time{}, errs.E(errs.Invalid, "invalid_date", "date must be YYYY-MM-DD")
	}
	if d.After(time.Now().In(cst)) {
		return time.Time{}, errs.E(errs.Invalid, "invalid_date", "date is in the future")
	}
	return d, nil
}

// Reconcile reconciles the day of the tenant in ctx (day from ParseDay):
// it downloads the bill, matches it and stores the run and its
// discrepancies. Running a day again updates the run and finds the same
// discrepancies again (no copies); open ones no longer found become
// auto_resolved. A failure to get or read the bill is stored on the run
// (status failed) and returned. conflict reconciliation_running while
// another run of the day is under way.
func (rc *Reconciler) Reconcile(ctx context.Context, day time.Time) (*Run, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return nil, errs.Wrap(db.ErrNoTenant, "reconcile")
	}
	date := day.Format("2006-01-02")
	var runNo int
	err := db.InTenant(ctx, rc.DB, func(tx *gorm.DB) error {
		return tx.Raw(`INSERT INTO reconciliation_runs (tenant_id, bill_date, status) VALUES (?, ?, 'running')
			ON CONFLICT (tenant_id, bill_date) DO UPDATE SET status = 'running', error = '', runs = reconciliation_runs.runs + 1, updated_at = now()
			WHERE reconciliation_runs.status <> 'running' OR reconciliation_runs.updated_at < now() - interval '15 minutes'
			RETURNING runs`, tid, date).Scan(&runNo).Error
	})
	if err != nil {
		return nil, err
	}
	if runNo == 0 {
		// Another run of this day is under way (one that started more than
		// 15 minutes ago is taken to have died).
		return nil, errs.E(errs.Conflict, "reconciliation_running", "this day is being reconciled right now; try again in a few minutes")
	}
	var batch []Discrepancy
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := db.InTenant(ctx, rc.DB, func(tx *gorm.DB) error {
			for _, d := range batch {
				if err := tx.Exec(`INSERT INTO reconciliation_discrepancies (tenant_id, bill_date, kind, reference, evidence, explanation, state, seen_run)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (tenant_id, bill_date, kind, reference) DO UPDATE SET evidence = EXCLUDED.evidence, explanation = EXCLUDED.explanation,
					  seen_run = EXCLUDED.seen_run, updated_at = now(),
					  state = CASE WHEN reconciliation_discrepancies.state = 'resolved' THEN 'resolved' ELSE EXCLUDED.state END`,
					tid, date, d.Kind, truncateRef(d.Reference), string(d.Evidence), d.Explanation, d.State, runNo).Error; err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	m := &Matcher{Book: dbBook{rc.DB}, Emit: func(ctx context.Context, d Discrepancy) error {
		batch = append(batch, d)
		if len(batch) >= lookupBatch {
			return flush()
		}
		return nil
	}}
	if rc.Paid != nil {
		m.Heal = rc.heal
	}
	totals, problems, err := rc.match(ctx, m, day)
	if err == nil {
		err = flush()
	}
	run := &Run{Date: date, Totals: totals, SummaryProblems: problems, Runs: runNo}
	if problems == nil {
		run.SummaryProblems = []string{}
	}
	if err != nil {
		// What the run shows staff: the bill's own problem, the user-facing
		// message of an *errs.Error, or a generic line (the cause is logged).
		var be *BillError
		msg := err.Error()
		switch e := errs.As(err); {
		case errors.As(err, &be):
		case e != nil && e.Kind != errs.Internal:
			msg = e.Message
		default:
			msg = "internal error; the server log has the cause"
		}
		rc.Log.WarnContext(ctx, "reconciliation failed", "tenant_id", tid, "date", date, "err", err)
		run.Status, run.Error = "failed", msg
		_ = db.InTenant(context.WithoutCancel(ctx), rc.DB, func(tx *gorm.DB) error {
			return tx.Exec(`UPDATE reconciliation_runs SET status = 'failed', error = ?, updated_at = now() WHERE tenant_id = ? AND bill_date = ?`,
				truncateRef(run.Error), tid, date).Error
		})
		return run, err
	}
	err = db.InTenant(ctx, rc.DB, func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE reconciliation_discrepancies SET state = 'auto_resolved', updated_at = now(),
			explanation = explanation || ?
			WHERE tenant_id = ? AND bill_date = ? AND state = 'open' AND seen_run < ?`, fmt.Sprintf(" (not found again by run %d)", runNo), tid, date, runNo).Error; err != nil {
			return err
		}
		if err := tx.Raw(`SELECT count(*) FROM reconciliation_discrepancies WHERE tenant_id = ? AND bill_date = ? AND state = 'open'`, tid, date).Scan(&run.Open).Error; err != nil {
			return err
		}
		run.Status = "matched"
		if run.Open > 0 || len(problems) > 0 {
			run.Status = "discrepancies"
		}
		pj, _ := json.Marshal(run.SummaryProblems)
		return tx.Raw(`UPDATE reconciliation_runs SET status = ?, bill_rows = ?, bill_payments = ?, bill_refunds = ?, bill_fee = ?, net_settlement = ?,
			our_payments = ?, our_refunds = ?, summary_problems = ?, open_count = ?, updated_at = now()
			WHERE tenant_id = ? AND bill_date = ? RETURNING updated_at`, run.Status, totals.BillRows, totals.BillPayments, totals.BillRefunds, totals.BillFee,
			totals.NetSettlement, totals.OurPayments, totals.OurRefunds, string(pj), run.Open, tid, date).Scan(&run.UpdatedAt).Error
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

func truncateRef(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// match downloads the day's bill and runs m over it.
func (rc *Reconciler) match(ctx context.Context, m *Matcher, day time.Time) (Totals, []string, error) {
	c, err := rc.Client(ctx)
	if err != nil {
		return Totals{}, nil, err
	}
	info, err := c.TradeBill(ctx, day, wechatpay.BillAll)
	if wechatpay.IsCode(err, "NO_STATEMENT_EXIST") {
		// No bill: a quiet day, or a bill not published yet (about 10:00
		// the next day, China time). Only the first reconciles as empty.
		pays, refunds, err := m.Book.Day(ctx, day)
		if err != nil {
			return Totals{}, nil, err
		}
		if len(pays)+len(refunds) > 0 {
			return Totals{}, nil, errs.E(errs.Unavailable, "bill_not_ready", "WeChat Pay has no bill for this day yet, though we recorded payments or refunds on it; bills are published around 10:00 China time the next day")
		}
		return m.Match(ctx, day, nil)
	}
	if err != nil {
		return Totals{}, nil, payError("trade bill", err)
	}
	f, err := c.DownloadBill(ctx, info)
	if err != nil {
		return Totals{}, nil, payError("trade bill download", err)
	}
	defer f.Close()
	t, p, err := m.Match(ctx, day, f)
	if errors.Is(err, wechatpay.ErrBillHash) {
		err = errs.E(errs.Unavailable, "bill_hash_mismatch", "the downloaded bill does not match its SHA-1; run the day again")
	}
	return t, p, err
}

// heal asks WeChat Pay about a payment in the bill that we never heard of
// and records it with Paid when WeChat Pay confirms the same transaction
// and amount for an order of ours.
func (rc *Reconciler) heal(ctx context.Context, r *BillRow) (map[string]any, bool, error) {
	ev := map[string]any{}
	c, err := rc.Client(ctx)
	if err != nil {
		return nil, false, err
	}
	q, err := c.QueryByOutTradeNo(ctx, r.OutTradeNo)
	switch {
	case wechatpay.IsCode(err, "ORDER_NOT_EXIST"):
		ev["query"] = "WeChat Pay does not know this out_trade_no"
		return ev, false, nil
	case err != nil:
		return nil, false, payError("query", err)
	}
	ev["query"] = map[string]any{"trade_state": q.TradeState, "transaction_id": q.TransactionID, "total": q.Amount.Total, "success_time": q.SuccessTime}
	if !q.Paid() || q.TransactionID != r.TransactionID || q.Amount.Total != r.SettlementFen || !c.OwnsTransaction(q) {
		ev["healed"] = "no: WeChat Pay's answer does not confirm the bill's payment"
		return ev, false, nil
	}
	tid, _ := scope.TenantID(ctx)
	err = rc.Paid(ctx, tid, r.OutTradeNo, q.TransactionID, q.Amount.Total, successTime(q.SuccessTime))
	if errs.Is(err, errs.NotFound) {
		ev["healed"] = "no: we have no order with this out_trade_no"
		return ev, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	ev["healed"] = "recorded as paid"
	return ev, true, nil
}

// dbBook reads our payments and refunds from Postgres.
type dbBook struct{ g *gorm.DB }

func (b dbBook) Day(ctx context.Context, day time.Time) (map[string]OurPayment, map[string]OurRefund, error) {
	tid, _ := scope.TenantID(ctx)
	pays, refunds := map[string]OurPayment{}, map[string]OurRefund{}
	end := day.AddDate(0, 0, 1)
	err := db.InTenant(ctx, b.g, func(tx *gorm.DB) error {
		var ps []struct {
			TransactionID, OutTradeNo, Disposition string
			Amount                                 int64
		}
		if err := tx.Raw(`SELECT p.transaction_id, o.out_trade_no, p.disposition, p.amount FROM order_payments p
			JOIN orders o ON o.tenant_id = p.tenant_id AND o.id = p.order_id
			WHERE p.tenant_id = ? AND p.paid_at >= ? AND p.paid_at < ?`, tid, day, end).Scan(&ps).Error; err != nil {
			return err
		}
		for _, p := range ps {
			pays[p.TransactionID] = OurPayment(p2(p.TransactionID, p.OutTradeNo, p.Amount, p.Disposition))
		}
		var rs []struct {
			OutRefundNo, OutTradeNo, Status string
			Amount                          int64
		}
		if err := tx.Raw(`SELECT r.out_refund_no, o.out_trade_no, r.status, r.amount FROM order_refunds r
			JOIN orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
			WHERE r.tenant_id = ? AND r.status = 'succeeded' AND r.updated_at >= ? AND r.updated_at < ?`, tid, day, end).Scan(&rs).Error; err != nil {
			return err
		}
		for _, r := range rs {
			refunds[r.OutRefundNo] = OurRefund{OutRefundNo: r.OutRefundNo, OutTradeNo: r.OutTradeNo, Status: r.Status, Amount: r.Amount}
		}
		return nil
	})
	return pays, refunds, err
}

func p2(txn, otn string, amount int64, disp string) OurPayment {
	return OurPayment{TransactionID: txn, OutTradeNo: otn, Amount: amount, Disposition: disp}
}

func (b dbBook) Find(ctx context.Context, txns, rnos []string) (map[string]OurPayment, map[string]OurRefund, error) {
	tid, _ := scope.TenantID(ctx)
	pays, refunds := map[string]OurPayment{}, map[string]OurRefund{}
	err := db.InTenant(ctx, b.g, func(tx *gorm.DB) error {
		if len(txns) > 0 {
			var ps []struct {
				TransactionID, OutTradeNo, Disposition string
				Amount                                 int64
			}
			if err := tx.Raw(`SELECT p.transaction_id, o.out_trade_no, p.disposition, p.amount FROM order_payments p
				JOIN orders o ON o.tenant_id = p.tenant_id AND o.id = p.order_id
				WHERE p.tenant_id = ? AND p.transaction_id IN ?`, tid, txns).Scan(&ps).Error; err != nil {
				return err
			}
			for _, p := range ps {
				pays[p.TransactionID] = p2(p.TransactionID, p.OutTradeNo, p.Amount, p.Disposition)
			}
		}
		if len(rnos) > 0 {
			var rs []struct {
				OutRefundNo, OutTradeNo, Status string
				Amount                          int64
			}
			if err := tx.Raw(`SELECT r.out_refund_no, o.out_trade_no, r.status, r.amount FROM order_refunds r
				JOIN orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
				WHERE r.tenant_id = ? AND r.out_refund_no IN ?`, tid, rnos).Scan(&rs).Error; err != nil {
				return err
			}
			for _, r := range rs {
				refunds[r.OutRefundNo] = OurRefund{OutRefundNo: r.OutRefundNo, OutTradeNo: r.OutTradeNo, Status: r.Status, Amount: r.Amount}
			}
		}
		return nil
	})
	return pays, refunds, err
}

// Runs lists the reconciled days of the tenant in ctx, newest first (at
// most limit, 1..366).
func (rc *Reconciler) Runs(ctx context.Context, limit int) ([]Run, error) {
	if limit < 1 || limit > 366 {
		limit = 90
	}
	tid, _ := scope.TenantID(ctx)
	var out []Run
	err := db.InTenant(ctx, rc.DB, func(tx *gorm.DB) error {
		var rows []runRow
		if err := tx.Raw(`SELECT * FROM reconciliation_runs WHERE tenant_id = ? ORDER BY bill_date DESC LIMIT ?`, tid, limit).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.run())
		}
		return nil
	})
	if out == nil {
		out = []Run{}
	}
	return out, err
}

type runRow struct {
	BillDate                                                                             time.Time
	Status, Error                                                                        string
	BillRows, BillPayments, BillRefunds, BillFee, NetSettlement, OurPayments, OurRefunds int64
	SummaryProblems                                                                      string
	OpenCount, Runs                                                                      int
	UpdatedAt                                                                            time.Time
}

func (r runRow) run() Run {
	run := Run{Date: r.BillDate.Format("2006-01-02"), Status: r.Status, Error: r.Error, Open: r.OpenCount, Runs: r.Runs, UpdatedAt: r.UpdatedAt.UTC(),
		Totals: Totals{BillRows: r.BillRows, BillPayments: r.BillPayments, BillRefunds: r.BillRefunds, BillFee: r.BillFee,
			NetSettlement: r.NetSettlement, OurPayments: r.OurPayments, OurRefunds: r.OurRefunds}}
	_ = json.Unmarshal([]byte(r.SummaryProblems), &run.SummaryProblems)
	if run.SummaryProblems == nil {
		run.SummaryProblems = []string{}
	}
	return run
}

// Day returns the run of a day and its discrepancies (not_found for a day
// never reconciled).
func (rc *Reconciler) Day(ctx context.Context, day time.Time) (*Run, []Discrepancy, error) {
	tid, _ := scope.TenantID(ctx)
	date := day.Format("2006-01-02")
	var run *Run
	var ds []Discrepancy
	err := db.InTenant(ctx, rc.DB, func(tx *gorm.DB) error {
		var rows []runRow
		if err := tx.Raw(`SELECT * FROM reconciliation_runs WHERE tenant_id = ? AND bill_date = ?`, tid, date).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return errs.E(errs.NotFound, "reconciliation_not_found", "this day has not been reconciled")
		}
		r := rows[0].run()
		run = &r
		var drs []struct {
			ID                                                  int64
			BillDate                                            time.Time
			Kind, Reference, Evidence, Explanation, State, Note string
			ResolvedBy                                          string
			ResolvedAt                                          *time.Time
		}
		if err := tx.Raw(`SELECT id, bill_date, kind, reference, evidence, explanation, state, note, resolved_by, resolved_at
			FROM reconciliation_discrepancies WHERE tenant_id = ? AND bill_date = ? ORDER BY id LIMIT 10000`, tid, date).Scan(&drs).Error; err != nil {
			return err
		}
		for _, d := range drs {
			ds = append(ds, Discrepancy{ID: d.ID, Date: date, Kind: d.Kind, Reference: d.Reference, Evidence: json.RawMessage(d.Evidence),
				Explanation: d.Explanation, State: d.State, Note: d.Note, ResolvedBy: d.ResolvedBy, ResolvedAt: utc(d.ResolvedAt)})
		}
		return nil
	})
	if ds == nil {
		ds = []Discrepancy{}
	}
	return run, ds, err
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Resolve marks discrepancy id of the day resolved by the actor in ctx
// with note (1..1000 characters). not_found for an unknown id (or another
// tenant's); conflict when it is already resolved.
func (rc *Reconciler) Resolve(ctx context.Context, day time.Time, id int64, note string) (*Discrepancy, error) {
	if l := len([]rune(note)); l < 1 || l > 1000 {
		return nil, errs.E(errs.Invalid, "invalid_note", "note must be 1 to 1000 characters")
	}
	tid, _ := scope.TenantID(ctx)
	a := scope.ActorOf(ctx)
	who := a.Kind
	if a.ID != "" {
		who += ":" + a.ID
	}
	date := day.Format("2006-01-02")
	err := db.InTenant(ctx, rc.DB, func(tx *gorm.DB) error {
		var st []string
		if err := tx.Raw(`SELECT state FROM reconciliation_discrepancies WHERE tenant_id = ? AND bill_date = ? AND id = ? FOR UPDATE`, tid, date, id).Scan(&st).Error; err != nil {
			return err
		}
		if len(st) == 0 {
			return errs.E(errs.NotFound, "discrepancy_not_found", "no such discrepancy on this day")
		}
		if st[0] == StateResolved {
			return errs.E(errs.Conflict, "already_resolved", "this discrepancy is already resolved")
		}
		if err := tx.Exec(`UPDATE reconciliation_discrepancies SET state = 'resolved', note = ?, resolved_by = ?, resolved_at = now(), updated_at = now()
			WHERE tenant_id = ? AND id = ?`, note, who, tid, id).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE reconciliation_runs SET open_count = (SELECT count(*) FROM reconciliation_discrepancies
			WHERE tenant_id = ? AND bill_date = ? AND state = 'open'), updated_at = now() WHERE tenant_id = ? AND bill_date = ?`, tid, date, tid, date).Error
	})
	if err != nil {
		return nil, err
	}
	_, ds, err := rc.Day(ctx, day)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].ID == id {
			return &ds[i], nil
		}
	}
	return nil, errs.E(errs.NotFound, "discrepancy_not_found", "no such discrepancy on this day")
}
