# rumor: offline-first event sync for edge devices. `make help` lists targets.
GO      ?= go
BIN     := bin/rumor
PKGS    := ./...
RACE_PKGS := ./store/... ./api/... ./cas/... ./node/...
FUZZTIME ?= 10s
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: help build run test bench fuzz lint tidy clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/rumor
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/rumor

run: build ## run a node on embedded defaults (data in ./rumor-data, API on 127.0.0.1:7070)
	./$(BIN) node

test: ## unit, property, integration and end-to-end tests, race detector on the concurrent packages (what CI runs)
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 12m $(PKGS)
	$(GO) test -race -count=1 -timeout 12m $(RACE_PKGS)

bench: ## benchmarks: ingest against its baselines, codecs, CAS against sha256
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 30m ./store/ 
	$(GO) test -run '^$$' -bench . -count 1 -timeout 10m ./cas/ ./event/ ./crdt/

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint: ## gofmt, go vet, and staticcheck when installed
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet $(PKGS)
	@if command -v staticcheck >/dev/null; then staticcheck $(PKGS); else echo "staticcheck not installed; skipped"; fi

tidy: ## check go.mod is tidy
	$(GO) mod tidy -diff

clean: ## remove build output
	rm -rf bin
