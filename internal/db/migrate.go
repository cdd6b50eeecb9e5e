package db

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/minishop/minishop/migrations"
)

// Migrator applies the embedded migrations. It must run as the owning role
// (the login role of DATABASE_URL, without SET ROLE). A session advisory lock
// lets several processes call Up at once safely.
type Migrator struct{ p *goose.Provider }

// NewMigrator returns a migrator over sqlDB.
func NewMigrator(sqlDB *sql.DB) (*Migrator, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, goose.WithSessionLocker(locker),
		// Parallel work lands migrations out of number order; apply any that are missing.
		goose.WithAllowOutofOrder(true))
	if err != nil {
		return nil, err
	}
	return &Migrator{p: p}, nil
}

// Up applies every pending migration and reports what it applied to w.
func (m *Migrator) Up(ctx context.Context, w io.Writer) error {
	res, err := m.p.Up(ctx)
	for _, r := range res {
		fmt.Fprintf(w, "applied %s (%s)\n", r.Source.Path, r.Duration.Round(1e6))
	}
	return err
}

// Down rolls back the most recent migration.
func (m *Migrator) Down(ctx context.Context, w io.Writer) error {
	r, err := m.p.Down(ctx)
	if r != nil {
		fmt.Fprintf(w, "rolled back %s\n", r.Source.Path)
	}
	return err
}

// Status writes one line per migration: applied (with time) or pending.
func (m *Migrator) Status(ctx context.Context, w io.Writer) error {
	st, err := m.p.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range st {
		when := "pending"
		if s.State == goose.StateApplied {
			when = "applied " + s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(w, "%-40s %s\n", s.Source.Path, when)
	}
	return nil
}
