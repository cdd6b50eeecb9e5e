# The two commands of the README: `make run` and `make test`. Both start a
# private Postgres and Redis under .minishop/ (or use DATABASE_URL/REDIS_URL).
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
export MINISHOP_DATA_DIR ?= $(CURDIR)/.minishop

.PHONY: run test build web e2e vet bench services-up services-down clean

## build: the admin console (npm ci + vite build when sources changed), then the minishop binary in bin/
build: web
	$(GO) build -trimpath -o bin/minishop ./cmd/minishop

## web: the admin console into web/admin/dist/app (embedded by the binary)
web:
	@scripts/web-build.sh

## e2e: the browser tests of the console alone (make test runs them too)
e2e:
	@MINISHOP_PG_FAST=1 scripts/services.sh up --quiet
	@scripts/e2e.sh

## run: Postgres + Redis + migrations + demo data + server, worker and sandbox; Ctrl-C stops all
run: build
	@scripts/run.sh

## test: the whole test suite against real Postgres and Redis
test:
	@scripts/test.sh

## bench: benchmarks that print figures (not part of `make test`)
bench:
	@bench/run.sh

vet:
	$(GO) vet ./...

services-up:
	@scripts/services.sh up

services-down:
	@scripts/services.sh down

clean:
	rm -rf bin
