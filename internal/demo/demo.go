// Package demo loads the demonstration data that `minishop dev` (and so
// `make run`) starts with: an operator, three brands with their owners, and
// an agency that manages one brand and has asked another for access. Loading
// is idempotent: a second run finds the rows and adds nothing.
package demo

import (
	"context"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/tenant"
)

// Password is every demo user's password (dev mode only).
const Password = "minishop-demo"

// Brand is a demo tenant and its owner.
type Brand struct{ Slug, Name, Owner string }

// Brands are the demo tenants: foreign brands launching in China.
var Brands = []Brand{
	{Slug: "nordic-skin", Name: "Nordic Skin", Owner: "owner@nordic-skin.test"},
	{Slug: "dutch-cocoa", Name: "Dutch Cocoa Company", Owner: "owner@dutch-cocoa.test"},
	{Slug: "alpine-kids", Name: "Alpine Kids", Owner: "owner@alpine-kids.test"},
}

// Demo accounts besides the brand owners.
const (
	Operator   = "operator@minishop.test"
	AgencyUser = "lead@brightpath.test"
	AgencyName = "Bright Path Agency"
)

// Deps are the services Seed uses.
type Deps struct {
	Tenants  *tenant.Service
	Accounts *tenant.Accounts
	Team     *tenant.Team
}

// Seed creates the demo data that does not exist yet and returns the demo
// tenants.
func Seed(ctx context.Context, d Deps) ([]tenant.Tenant, error) {
	ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "demo"})
	user := func(email, name string) (*tenant.User, bool, error) {
		u, err := d.Accounts.UserByEmail(ctx, email)
		if errs.Is(err, errs.NotFound) {
			u, err = d.Accounts.CreateUser(ctx, email, name, Password)
			return u, true, err
		}
		return u, false, err
	}
	op, _, err := user(Operator, "Platform Operator")
	if err != nil {
		return nil, err
	}
	if err := d.Accounts.SetOperator(ctx, op.ID, true); err != nil {
		return nil, err
	}
	out := make([]tenant.Tenant, 0, len(Brands))
	for _, b := range Brands {
		t, err := d.Tenants.Get(ctx, b.Slug)
		if errs.Is(err, errs.NotFound) {
			t, err = d.Tenants.Create(ctx, tenant.CreateInput{Slug: b.Slug, Name: b.Name})
		}
		if err != nil {
			return nil, err
		}
		owner, created, err := user(b.Owner, b.Name+" Owner")
		if err != nil {
			return nil, err
		}
		if created {
			if err := d.Team.AddMember(scope.WithTenant(ctx, t.ID), owner.ID, tenant.RoleOwner); err != nil {
				return nil, err
			}
		}
		out = append(out, *t)
	}
	lead, created, err := user(AgencyUser, "Agency Lead")
	if err != nil {
		return nil, err
	}
	if created {
		ag, err := d.Team.CreateAgency(ctx, AgencyName, lead.ID)
		if err != nil {
			return nil, err
		}
		p := &tenant.Principal{UserID: lead.ID, Email: lead.Email, Agencies: []tenant.AgencyRole{{ID: ag.ID, Name: ag.Name, Role: tenant.AgencyAdmin}}}
		// Dutch Cocoa let the agency manage its catalog; Alpine Kids has not answered yet.
		if _, err := d.Team.RequestAccess(ctx, p, ag.ID, tenant.AccessRequest{Tenant: "dutch-cocoa", Message: "We run your Tmall and WeChat catalog."}); err != nil {
			return nil, err
		}
		dc := out[1]
		if _, err := d.Team.DecideAccess(scope.WithTenant(ctx, dc.ID), nil, ag.ID, "approved", tenant.RoleCatalogManager); err != nil {
			return nil, err
		}
		if _, err := d.Team.RequestAccess(ctx, p, ag.ID, tenant.AccessRequest{Tenant: "alpine-kids", Message: "We would like to launch your WeChat shop."}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
