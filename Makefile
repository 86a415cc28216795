# The one test command (README, .ci/run): gofmt, vet and staticcheck, every
# Go test with the race detector against throwaway PostgreSQL clusters the
# tests start, then the JavaScript SDK's and the Segment library's tests
# against a real daemon they start.
GO  ?= go
NPM ?= npm

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test lint test-go test-js test-segment build bench

test: lint test-go test-js test-segment

# staticcheck is a pinned tool run from the module proxy, not a dependency
# of the code.
lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "not gofmt-ed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

test-go:
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
