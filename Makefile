# The one test command (README, .ci/run): vet, every Go test with the race
# detector against throwaway PostgreSQL clusters the tests start, then the
# JavaScript SDK's and the Segment library's tests against a real daemon
# they start.
GO  ?= go
NPM ?= npm

.PHONY: test test-go test-js test-segment build bench

test: test-go test-js test-segment

test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

test-js:
	cd sdk/js && $(NPM) ci --no-audit --no-fund && $(NPM) test

# The official Segment Node library, unmodified, against a real daemon.
test-segment:
	cd sdk/segment-compat && $(NPM) ci --no-audit --no-fund && $(NPM) test

build:
	$(GO) build -o bin/ ./cmd/...

bench:
	$(GO) run ./bench
