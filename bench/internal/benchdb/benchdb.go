// Package benchdb gives the load harnesses under bench/cmd a fresh, migrated
// database of their own.
package benchdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/minishop/minishop/internal/db"
)

// Create creates an empty database named prefix + a random suffix next to
// the one adminURL names, applies every migration and returns its URL and a
// function that drops it.
func Create(ctx context.Context, adminURL, prefix string) (string, func(), error) {
	c, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("Postgres at DATABASE_URL: %w (start it with scripts/services.sh up)", err)
	}
	defer c.Close(ctx)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, adminURL); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	}
	u, err := url.Parse(adminURL)
	if err != nil || u.Scheme == "" {
		drop()
		return "", nil, fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	g, err := db.Open(ctx, u.String(), db.Options{MaxOpen: 2})
	if err != nil {
		drop()
		return "", nil, err
	}
	defer db.Close(g)
	m, err := db.NewMigrator(db.SQL(g))
	if err == nil {
		err = m.Up(ctx, io.Discard)
	}
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("migrating %s: %w", name, err)
	}
	return u.String(), drop, nil
}
