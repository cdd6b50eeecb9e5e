// Package scope carries who and for which tenant a piece of work runs, in the
// context. Middleware (storefront: from the Host; admin: from the path) and
// task handlers (from the payload) put the tenant in; stores read it out and
// fail closed when it is missing.
package scope

import "context"

type tenantKey struct{}
type requestIDKey struct{}

// WithTenant returns ctx scoped to tenant id.
func WithTenant(ctx context.Context, id int64) context.Context {
	return context.WithValue(ctx, tenantKey{}, id)
}

// TenantID returns the tenant ctx is scoped to; ok is false when there is none.
func TenantID(ctx context.Context) (id int64, ok bool) {
	id, ok = ctx.Value(tenantKey{}).(int64)
	return id, ok && id > 0
}

// WithRequestID returns ctx carrying a request id (logged, and passed on to tasks).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}
