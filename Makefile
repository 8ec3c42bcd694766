# rumor: offline-first event sync for edge devices. `make help` lists targets.
GO      ?= go
BIN     := bin/rumor
PKGS    := ./...
RACE_PKGS := ./store/... ./api/... ./cas/... ./node/... ./gossip/... ./metrics/... ./sink/...
FUZZTIME ?= 10s
SOAK_MINUTES ?= 10
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: help build run test bench sim soak fuzz lint tidy clean

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

bench: ## every benchmark, each printing its baseline and ratio from the same run (RUMOR_BENCH_EVENTS=N to resize)
	$(GO) test -run '^$$' -bench 'Ingest' -benchtime 3000x ./store/
	$(GO) test -run '^$$' -bench 'HTTPIngest|SchemaIngest' -benchtime 300x ./node/
	$(GO) test -run '^$$' -bench 'Restart|CatchUp|Join' -benchtime 1x -timeout 30m ./node/
	$(GO) test -run '^$$' -bench 'MeshLatency' -benchtime 400x ./node/
	$(GO) test -run '^$$' -bench . ./gossip/syncproto/ ./cas/ ./event/ ./crdt/ ./schema/
	$(GO) test -run '^$$' -bench 'DropTime' -benchtime 3x ./gossip/mesh/
	$(GO) test -run '^$$' -bench 'Archive' -benchtime 3x -timeout 30m ./sink/

sim: build ## run every library scenario at full size (reports in sim-out/NAME), then the long simulation tests
	@set -e; for s in $$(./$(BIN) sim list | awk 'NR>1 {print $$1}'); do ./$(BIN) sim run $$s --out sim-out/$$s; done
	RUMOR_SIM_LONG=1 $(GO) test -count=1 -timeout 30m ./simulations/...

soak: ## membership soak: 10 healthy nodes for SOAK_MINUTES (default 10); no live member may be declared gone
	RUMOR_SOAK_MINUTES=$(SOAK_MINUTES) $(GO) test -count=1 -run '^TestNoFalseSuspicionSoak$$' -v -timeout 60m ./gossip/mesh/

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
