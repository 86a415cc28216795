# The one test command (README, .ci/run): vet, every Go test with the race
# detector against throwaway PostgreSQL clusters the tests start, then the
# JavaScript SDK's tests against a real daemon they start.
GO  ?= go
NPM ?= npm

.PHONY: test test-go test-js build bench

test: test-go test-js

test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

test-js:
	cd sdk/js && $(NPM) ci --no-audit --no-fund && $(NPM) test

build:
	$(GO) build -o bin/ ./cmd/...

bench:
	$(GO) run ./bench
