# The one test command (README, .ci/run): vet, then every Go test with the
# race detector against throwaway PostgreSQL clusters the tests start.
GO ?= go

.PHONY: test build bench

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

build:
	$(GO) build -o bin/ ./cmd/...

bench: build
	$(GO) run ./bench
