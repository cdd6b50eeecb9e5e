// Package demo loads the demonstration data that `minishop dev` (and so
// `make run`) starts with. Loading is idempotent: a second run finds the rows
// and adds nothing.
package demo

import (
	"context"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/tenant"
)

// Brand is a demo tenant.
type Brand struct{ Slug, Name string }

// Brands are the demo tenants: foreign brands launching in China.
var Brands = []Brand{
	{Slug: "nordic-skin", Name: "Nordic Skin"},
	{Slug: "dutch-cocoa", Name: "Dutch Cocoa Company"},
	{Slug: "alpine-kids", Name: "Alpine Kids"},
}

// Seed creates the demo data that does not exist yet and returns the demo
// tenants.
func Seed(ctx context.Context, tenants *tenant.Service) ([]tenant.Tenant, error) {
	ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "demo"})
	out := make([]tenant.Tenant, 0, len(Brands))
	for _, b := range Brands {
		t, err := tenants.Get(ctx, b.Slug)
		if errs.Is(err, errs.NotFound) {
			t, err = tenants.Create(ctx, tenant.CreateInput{Slug: b.Slug, Name: b.Name})
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, nil
}
