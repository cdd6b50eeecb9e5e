// Package db opens Postgres connections and runs tenant transactions.
//
// Isolation has two walls. The first is in our queries: every store names the
// tenant. The second is Postgres row-level security: the server's connections
// run as a role that neither owns the tables nor bypasses RLS, and InTenant
// sets app.tenant_id with set_config(..., true), which lasts only until the
// transaction ends, so a pooled connection never carries a tenant to the next
// request.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// Options tune a pool. Zero values take sensible defaults.
type Options struct {
	Role             string        // SET ROLE on every new connection ("" keeps the login role; migrations only)
	MaxOpen          int           // default 20
	StatementTimeout time.Duration // default 30s
}

// Open connects to url and returns a gorm handle over a pgx pool. With a Role,
// every connection switches to it before first use, so RLS applies even when
// the login role owns the tables.
func Open(ctx context.Context, url string, o Options) (*gorm.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = 30 * time.Second
	}
	if o.MaxOpen == 0 {
		o.MaxOpen = 20
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	cfg.RuntimeParams["idle_in_transaction_session_timeout"] = "60000"
	cfg.RuntimeParams["application_name"] = "minishop"
	var opts []stdlib.OptionOpenDB
	if o.Role != "" {
		role := pgx.Identifier{o.Role}.Sanitize()
		opts = append(opts, stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "SET ROLE "+role)
			return err
		}))
	}
	sqlDB := stdlib.OpenDB(*cfg, opts...)
	sqlDB.SetMaxOpenConns(o.MaxOpen)
	sqlDB.SetMaxIdleConns(o.MaxOpen)
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	g, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connecting to Postgres: %w", err)
	}
	return g, nil
}

// Close closes the pool behind g.
func Close(g *gorm.DB) error {
	s, err := g.DB()
	if err != nil {
		return err
	}
	return s.Close()
}

// SQL returns the *sql.DB behind g.
func SQL(g *gorm.DB) *sql.DB {
	s, _ := g.DB()
	return s
}

// ErrNoTenant is returned when tenant-scoped work is attempted without a
// tenant in the context: a programming error, so it fails closed.
var ErrNoTenant = errors.New("db: no tenant in context")

// InTenant runs fn in a transaction scoped to the tenant in ctx: RLS sees only
// that tenant's rows. fn's tx must not escape it. An error from fn rolls back.
func InTenant(ctx context.Context, g *gorm.DB, fn func(tx *gorm.DB) error) error {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return errs.Wrap(ErrNoTenant, "internal error")
	}
	return g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT set_config('app.tenant_id', ?, true)", strconv.FormatInt(tid, 10)).Error; err != nil {
			return err
		}
		return fn(tx)
	})
}

// IsUniqueViolation reports whether err is a Postgres unique violation,
// optionally on the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" {
		return constraint == "" || pg.ConstraintName == constraint
	}
	return constraint == "" && errors.Is(err, gorm.ErrDuplicatedKey)
}

// NotFound maps gorm's record-not-found to a not_found error with message msg.
func NotFound(err error, code, msg string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return errs.E(errs.NotFound, code, msg)
	}
	return err
}

// Bytes passes a bytea argument to gorm's raw SQL. A bare []byte right after
// "(" in a query (as in "VALUES (?, ...") is expanded by gorm into one
// argument per byte, as for IN lists; a driver.Valuer is not.
type Bytes []byte

// Value implements driver.Valuer.
func (b Bytes) Value() (driver.Value, error) { return []byte(b), nil }

// IsForeignKeyViolation reports whether err is a Postgres foreign key violation.
func IsForeignKeyViolation(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23503"
}
