package shop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/tenant"
)

// TaskImport runs a queued catalog import. Its payload's data is {"import_id": N}.
const TaskImport = "catalog.import"

// SyncImportBytes is the size up to which an upload is imported during the
// request; larger files are queued for the worker.
const SyncImportBytes = 256 << 10

// Import statuses.
const (
	ImportQueued    = "queued"
	ImportRunning   = "running"
	ImportSucceeded = "succeeded"
	ImportFailed    = "failed"
)

// Import is a catalog import job.
type Import struct {
	ID         int64         `json:"id"`
	Status     string        `json:"status"`
	Format     string        `json:"format"`
	Filename   string        `json:"filename"`
	Size       int64         `json:"size"`
	RowsTotal  int           `json:"rows_total"`
	RowsDone   int           `json:"rows_done"`
	Progress   int           `json:"progress"` // percent of rows done
	ErrorCount int           `json:"error_count"`
	Errors     []RowError    `json:"errors"` // the first 100; the error report has up to 1000
	Summary    ImportSummary `json:"summary"`
	CreatedAt  time.Time     `json:"created_at"`
	StartedAt  *time.Time    `json:"started_at"`
	FinishedAt *time.Time    `json:"finished_at"`
	fileHash   string
	errorsAll  []RowError
}

// ImportOptions tune StartImport.
type ImportOptions struct {
	Sync     bool                  // run now whatever the size (the CLI)
	Progress func(done, total int) // called as rows are done (synchronous runs)
}

// StartImport stores an uploaded catalog file and imports it: during the
// call for small files (or opts.Sync), else in the background (status
// queued; poll Import). A file whose header is wrong is refused with 400
// invalid_import and no job. A file with any bad row writes nothing: the job
// fails and lists every bad row.
func (s *Service) StartImport(ctx context.Context, filename string, data []byte, opts ImportOptions) (*Import, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, errs.E(errs.Invalid, "invalid_import", "the file is empty; download the template to start")
	}
	if len(data) > MaxImportBytes {
		return nil, errs.E(errs.TooLarge, "too_large", fmt.Sprintf("the file is larger than %d MiB; split it", MaxImportBytes>>20))
	}
	filename = filepath.Base(strings.ReplaceAll(filename, `\`, "/"))
	if !utf8.ValidString(filename) || len(filename) > 255 {
		filename = "upload"
	}
	format := DetectFormat(filename, data)
	total, ferrs, err := scanFile(format, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	if len(ferrs) > 0 {
		return nil, errs.E(errs.Invalid, "invalid_import", "the file cannot be imported: "+ferrs[0].String()).WithDetails(map[string]any{"errors": ferrs})
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if err := s.Media.Put(ctx, tid, hash, data); err != nil {
		return nil, err
	}
	async := !opts.Sync && len(data) > SyncImportBytes
	var id int64
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		a := scope.ActorOf(ctx)
		if err := tx.Raw(`INSERT INTO catalog_imports (tenant_id, format, filename, file_hash, size, rows_total, actor)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, tid, format, filename, hash, len(data), total, a.Kind+":"+a.ID).Scan(&id).Error; err != nil {
			return err
		}
		if err := tenant.Audit(ctx, tx, "catalog.import_started", "import:"+strconv.FormatInt(id, 10), map[string]any{"filename": filename, "rows": total}); err != nil {
			return err
		}
		if async {
			return outbox.Add(ctx, tx, outbox.Message{Kind: TaskImport, Queue: outbox.QueueLow, TenantID: tid, Data: map[string]int64{"import_id": id}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !async {
		job, err := s.loadImport(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := s.markRunning(ctx, id); err != nil {
			return nil, err
		}
		err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
			return s.runImport(ctx, tx, job, data, opts.Progress)
		})
		if err != nil {
			return nil, err
		}
	}
	return s.Import(ctx, id)
}

// RunImport is the worker's handler of TaskImport: it imports the job's file
// once, whatever the number of deliveries (outbox.Once).
func (s *Service) RunImport(ctx context.Context, taskID string, data json.RawMessage) error {
	var p struct {
		ImportID int64 `json:"import_id"`
	}
	if err := json.Unmarshal(data, &p); err != nil || p.ImportID <= 0 {
		return fmt.Errorf("catalog.import: bad payload %s", data)
	}
	job, err := s.loadImport(ctx, p.ImportID)
	if err != nil {
		return err
	}
	if job.Status == ImportSucceeded || job.Status == ImportFailed {
		return nil
	}
	tid, _ := tenantID(ctx)
	f, err := s.Media.Open(ctx, tid, job.fileHash)
	if err != nil {
		return fmt.Errorf("catalog.import %d: opening the upload: %w", job.ID, err)
	}
	file, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	if err := s.markRunning(ctx, job.ID); err != nil {
		return err
	}
	_, err = outbox.Once(ctx, s.DB, taskID, TaskImport, func(tx *gorm.DB) error {
		return s.runImport(ctx, tx, job, file, nil)
	})
	return err
}

func (s *Service) markRunning(ctx context.Context, id int64) error {
	tid, _ := tenantID(ctx)
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE catalog_imports SET status = 'running', started_at = coalesce(started_at, now()),
			rows_done = CASE WHEN status = 'queued' THEN 0 ELSE rows_done END
			WHERE tenant_id = ? AND id = ? AND status IN ('queued', 'running')`, tid, id).Error
	})
}

// runImport applies the file in tx (the whole import is one transaction),
// rolling its changes back if any row is bad, and records the outcome on the
// job in the same transaction.
func (s *Service) runImport(ctx context.Context, tx *gorm.DB, job *Import, file []byte, progress func(done, total int)) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	ref := "import:" + strconv.FormatInt(job.ID, 10)
	// The tables grow by thousands of rows inside this one transaction: a
	// generic plan cached while they were small (a sequential scan) would
	// make every statement slower than the last. Plan each one afresh.
	if err := tx.Exec(`SET LOCAL plan_cache_mode = force_custom_plan`).Error; err != nil {
		return err
	}
	if err := tx.SavePoint("catalog_import").Error; err != nil {
		return err
	}
	im := &importer{s: s, ctx: ctx, tx: tx, tid: tid, ref: ref, handles: map[string]int{}, codes: map[string]int{}}
	// Progress goes to the job row from another connection, so pollers see
	// it while this transaction runs; at most a few writes a second.
	var mu sync.Mutex
	last := time.Now()
	im.progress = func(done int) {
		if progress != nil {
			progress(done, job.RowsTotal)
		}
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 300*time.Millisecond {
			return
		}
		last = time.Now()
		_ = db.InTenant(context.WithoutCancel(ctx), s.DB, func(ptx *gorm.DB) error {
			return ptx.Exec(`UPDATE catalog_imports SET rows_done = ? WHERE tenant_id = ? AND id = ? AND status = 'running'`, done, tid, job.ID).Error
		})
	}
	rr, err := openRows(job.Format, bytes.NewReader(file), int64(len(file)))
	if err == nil {
		err = im.run(rr)
		rr.Close()
	} else if fe, ok := err.(*fileErr); ok {
		im.fail(fe.RowError)
		err = nil
	}
	if err != nil {
		return err
	}
	status, sum := ImportSucceeded, im.sum
	if im.failed() {
		if err := tx.RollbackTo("catalog_import").Error; err != nil {
			return err
		}
		status, sum = ImportFailed, ImportSummary{}
	}
	if im.errs == nil {
		im.errs = []RowError{}
	}
	if err := tx.Exec(`UPDATE catalog_imports SET status = ?, rows_done = ?, error_count = ?, errors = ?, summary = ?, finished_at = now()
		WHERE tenant_id = ? AND id = ?`, status, im.done, im.nerr, jsonOf(im.errs), jsonOf(sum), tid, job.ID).Error; err != nil {
		return err
	}
	if err := tenant.Audit(ctx, tx, "catalog.import_"+status, ref, map[string]any{"summary": sum, "errors": im.nerr}); err != nil {
		return err
	}
	if status == ImportSucceeded && (sum.ProductsCreated+sum.ProductsUpdated) > 0 {
		s.cache.Invalidate(ctx, tid)
	}
	if progress != nil {
		progress(im.done, job.RowsTotal)
	}
	return nil
}

var errImportNotFound = errs.E(errs.NotFound, "import_not_found", "no such import")

func (s *Service) loadImport(ctx context.Context, id int64) (*Import, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID         int64
		Status     string
		Format     string
		Filename   string
		FileHash   string
		Size       int64
		RowsTotal  int
		RowsDone   int
		ErrorCount int
		Errors     string
		Summary    string
		CreatedAt  time.Time
		StartedAt  *time.Time
		FinishedAt *time.Time
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id, status, format, filename, file_hash, size, rows_total, rows_done, error_count, errors::text, summary::text,
			created_at, started_at, finished_at FROM catalog_imports WHERE tenant_id = ? AND id = ?`, tid, id).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errImportNotFound
	}
	r := rows[0]
	j := &Import{ID: r.ID, Status: r.Status, Format: r.Format, Filename: r.Filename, Size: r.Size, RowsTotal: r.RowsTotal, RowsDone: r.RowsDone,
		ErrorCount: r.ErrorCount, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, fileHash: r.FileHash}
	_ = json.Unmarshal([]byte(r.Errors), &j.errorsAll)
	for i := range j.errorsAll { // stored in English; shown in the client's language
		j.errorsAll[i].Message = httpx.Localize(ctx, j.errorsAll[i].Message)
	}
	_ = json.Unmarshal([]byte(r.Summary), &j.Summary)
	j.Errors = j.errorsAll
	if len(j.Errors) > 100 {
		j.Errors = j.Errors[:100]
	}
	if j.Errors == nil {
		j.Errors = []RowError{}
	}
	switch {
	case j.Status == ImportSucceeded || j.RowsTotal == 0 && j.FinishedAt != nil:
		j.Progress = 100
	case j.RowsTotal > 0:
		j.Progress = min(100, j.RowsDone*100/j.RowsTotal)
	}
	return j, nil
}

// Import returns an import job of the tenant in ctx.
func (s *Service) Import(ctx context.Context, id int64) (*Import, error) {
	return s.loadImport(ctx, id)
}

// ImportErrors writes the bad rows of an import as CSV (line, column, sku,
// message), with a last line counting those beyond the first 1000.
func (s *Service) ImportErrors(ctx context.Context, id int64, w io.Writer) error {
	j, err := s.loadImport(ctx, id)
	if err != nil {
		return err
	}
	_, _ = w.Write(bom)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"line", "column", "sku", "message"})
	for _, e := range j.errorsAll {
		_ = cw.Write([]string{strconv.Itoa(e.Line), e.Column, e.SKU, csvSafe(e.Message)})
	}
	if more := j.ErrorCount - len(j.errorsAll); more > 0 {
		_ = cw.Write([]string{"", "", "", fmt.Sprintf("and %d more problems: fix these and import again", more)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
