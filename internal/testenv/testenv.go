// Package testenv gives tests real infrastructure: a freshly migrated
// Postgres database of their own (cloned from a template in a fraction of a
// second) and a Redis database of their own, on the servers `make test`
// starts (DATABASE_URL, REDIS_URL; the same defaults as `make run`).
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/migrations"
)

const (
	defaultDB    = "postgres://minishop@127.0.0.1:54329/minishop?sslmode=disable"
	defaultRedis = "redis://127.0.0.1:63799/0"
)

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// ServerURLs returns the Postgres and Redis the tests use.
func ServerURLs() (pg, rd string) {
	return env("DATABASE_URL", defaultDB), env("REDIS_URL", defaultRedis)
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// template returns the name of a database with every migration applied,
// creating it on first use. Its name carries a hash of the migrations, so a
// changed migration gets a new template; an advisory lock makes concurrent
// test binaries build it once.
func template(ctx context.Context) (string, error) {
	templateOnce.Do(func() {
		h := sha256.New()
		_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := fs.ReadFile(migrations.FS, p)
				h.Write([]byte(p))
				h.Write(b)
			}
			return nil
		})
		templateName = "minishop_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12]
		templateErr = buildTemplate(ctx, templateName)
	})
	return templateName, templateErr
}

func adminConn(ctx context.Context) (*pgx.Conn, error) {
	pg, _ := ServerURLs()
	c, err := pgx.Connect(ctx, pg)
	if err != nil {
		return nil, fmt.Errorf("Postgres is not reachable at %s (run `make test`, which starts it, or set DATABASE_URL): %w", redact(pg), err)
	}
	return c, nil
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "DATABASE_URL"
	}
	return p.Redacted()
}

func buildTemplate(ctx context.Context, name string) error {
	c, err := adminConn(ctx)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		return err
	}
	defer c.Exec(context.Background(), "SELECT pg_advisory_unlock(727274)")
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	build := name + "_build"
	_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+build+" WITH (FORCE)")
	if _, err := c.Exec(ctx, "CREATE DATABASE "+build); err != nil {
		return err
	}
	g, err := db.Open(ctx, withDB(c.Config().ConnString(), build), db.Options{MaxOpen: 2})
	if err != nil {
		return err
	}
	m, err := db.NewMigrator(db.SQL(g))
	if err == nil {
		err = m.Up(ctx, io.Discard)
	}
	db.Close(g)
	if err != nil {
		return fmt.Errorf("migrating the test template: %w", err)
	}
	_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	if _, err := c.Exec(ctx, "ALTER DATABASE "+build+" RENAME TO "+name); err != nil {
		return err
	}
	_, err = c.Exec(ctx, "ALTER DATABASE "+name+" WITH is_template true")
	return err
}

// withDB returns connString pointing at database name.
func withDB(connString, name string) string {
	u, err := url.Parse(connString)
	if err != nil || u.Scheme == "" {
		// key=value form
		return connString + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

// DatabaseURL returns the URL of a new, migrated database that is dropped when
// the test ends. The URL's login role owns the tables (as DATABASE_URL does);
// the app connects through it with SET ROLE minishop_app.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmpl, err := template(ctx)
	if err != nil {
		t.Fatalf("test database template: %v", err)
	}
	c, err := adminConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "minishop_test_" + hex.EncodeToString(b)
	// CREATE DATABASE ... TEMPLATE fails while anyone is connected to the
	// template; builders disconnect quickly, so retry briefly.
	for i := 0; ; i++ {
		_, err = c.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl)
		if err == nil || i == 50 || !strings.Contains(err.Error(), "is being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	u := withDB(c.Config().ConnString(), name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := adminConn(ctx); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	return u
}

// RedisURL returns the URL of a Redis logical database of the test's own,
// emptied first. Databases are handed out round-robin from a counter in
// database 0, so concurrently running test binaries do not share one.
func RedisURL(t testing.TB) string {
	t.Helper()
	_, base := ServerURLs()
	opt, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opt.DB = 0
	c := redis.NewClient(opt)
	defer c.Close()
	n, err := c.Incr(ctx, "minishop:test:next-db").Result()
	if err != nil {
		t.Fatalf("Redis is not reachable at %s (run `make test`, which starts it, or set REDIS_URL): %v", opt.Addr, err)
	}
	count := 16
	if v, err := c.ConfigGet(ctx, "databases").Result(); err == nil {
		if k, err := strconv.Atoi(v["databases"]); err == nil && k > 1 {
			count = k
		}
	}
	idx := 1 + int(n%int64(count-1))
	opt.DB = idx
	dc := redis.NewClient(opt)
	defer dc.Close()
	if err := dc.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flushing Redis db %d: %v", idx, err)
	}
	u, _ := url.Parse(base)
	u.Path = "/" + strconv.Itoa(idx)
	return u.String()
}
