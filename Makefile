# masspayout — run `make help` for the targets.
GO       ?= go
BIN      := bin/masspayout
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
SAMPLE   ?= examples/payroll-sample.csv
FUZZTIME ?= 100000x

.DEFAULT_GOAL := help
.PHONY: help build run test test-unit fuzz bench chaos lint clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/masspayout
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/masspayout

run: build ## process the bundled sample payroll file end to end (embedded Redis + built-in sandbox)
	APPROVAL=$${APPROVAL:-auto} POLL_INTERVAL=$${POLL_INTERVAL:-1s} LOG_LEVEL=$${LOG_LEVEL:-warn} ./$(BIN) run --wait-final $(SAMPLE)

test: lint test-unit fuzz ## the whole test suite: vet, gofmt, go test -race, short fuzz runs

test-unit: ## go test -race ./...
	$(GO) test -race -count=1 -timeout 30m ./...

fuzz: ## short run of every fuzz target (FUZZTIME=100000x executions each; a count, not a time: time-boxed runs can end in "context deadline exceeded")
	@./scripts/fuzz.sh $(FUZZTIME)

BENCHROWS ?= 1000000

bench: ## Go benchmarks plus the end-to-end bench command (BENCHROWS=1000000)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x -timeout 60m ./...
	$(GO) run ./cmd/mpbench -rows $(BENCHROWS)

CHAOS_FLAGS ?=

chaos: build ## chaos run: real workers, redis-server and sandbox under kill -9/SIGSTOP; checks the invariants (CHAOS_FLAGS=-short for CI)
	$(GO) run ./cmd/mpchaos -bin $(BIN) $(CHAOS_FLAGS)

lint: ## go vet and a gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean: ## remove build output and results
	rm -rf bin results
