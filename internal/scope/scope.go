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

// Actor is who performs a change, as the audit log records it.
type Actor struct {
	Kind string // system, operator, user, agency, token, customer
	ID   string // user id, token id, ... ("" for the system)
	IP   string
}

// System is the actor of background work and of anything without a person behind it.
var System = Actor{Kind: "system", ID: "minishop"}

type actorKey struct{}

// WithActor returns ctx carrying who acts.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf returns who acts in ctx, System when nobody was set.
func ActorOf(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Kind != "" {
		return a
	}
	return System
}
