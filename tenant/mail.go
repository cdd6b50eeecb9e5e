package tenant

import (
	"context"
	"log/slog"

	"gorm.io/gorm"
)

// Mailer sends email. Production plugs in a real sender; dev mode and tests
// use OutboxMailer.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// OutboxMailer keeps mail in the mail_outbox table (readable by the console
// and tests) and, when Print is set (dev mode), prints it to the log so the
// developer can click the link.
type OutboxMailer struct {
	DB    *gorm.DB
	Log   *slog.Logger
	Print bool
}

// Send implements Mailer.
func (m *OutboxMailer) Send(ctx context.Context, to, subject, body string) error {
	if err := m.DB.WithContext(ctx).Exec(`INSERT INTO mail_outbox (to_addr, subject, body) VALUES (?, ?, ?)`, to, subject, body).Error; err != nil {
		return err
	}
	if m.Print {
		m.Log.Info("dev mail (not sent; kept in mail_outbox)", "to", to, "subject", subject, "body", body)
	}
	return nil
}

// Mail is a message in the outbox.
type Mail struct {
	ID        int64  `json:"id"`
	ToAddr    string `json:"to"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
}

// DevMail returns the latest mail in the outbox (newest first), optionally
// only to one address. For dev mode and tests.
func DevMail(ctx context.Context, g *gorm.DB, to string, limit int) ([]Mail, error) {
	out := []Mail{}
	q := `SELECT id, to_addr, subject, body, to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SSOF') AS created_at FROM mail_outbox`
	args := []any{}
	if to != "" {
		q += ` WHERE to_addr = ?`
		args = append(args, to)
	}
	args = append(args, limit)
	err := g.WithContext(ctx).Raw(q+` ORDER BY id DESC LIMIT ?`, args...).Scan(&out).Error
	return out, err
}
