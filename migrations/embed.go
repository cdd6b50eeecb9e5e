// Package migrations holds the schema as numbered plain-SQL goose migrations,
// embedded in the binary. They run as the owning role; the server runs as
// minishop_app, which owns nothing and is subject to row-level security.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
