# Switchboard: `make run` serves UI + API on 127.0.0.1:8080 (SQLite in ./data); `make test` runs everything.
SHELL := /bin/bash
BIN := bin/switchboard
GO_SOURCES := $(shell find cmd internal connectors migrations -type f \( -name '*.go' -o -name '*.sql' \) 2>/dev/null) go.mod go.sum
UI_SOURCES := $(shell find frontend/src frontend/index.html frontend/package.json frontend/package-lock.json frontend/vite.config.ts frontend/tsconfig*.json -type f 2>/dev/null)
UI_STAMP := internal/webui/dist/index.html

.PHONY: run build plugins ui test test-go test-deploy test-ui test-e2e-ui pg bench bench-go clean

run: build
	./$(BIN) serve

build: $(BIN) plugins

# The worked example WebAssembly plugin (docs/wasm-plugins.md): standard Go
# toolchain, GOOS=wasip1 GOARCH=wasm, as a reactor (-buildmode=c-shared).
PLUGIN := bin/plugins/orders.wasm
plugins: $(PLUGIN)

$(PLUGIN): $(shell find examples/plugins/orders connectors/wasm/sdk -name '*.go') go.mod
	@mkdir -p $(dir $@)
	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o $@ ./examples/plugins/orders

$(BIN): $(GO_SOURCES) $(UI_STAMP)
	go build -o $(BIN) ./cmd/switchboard

# --- frontend (owned by the UI work; keep targets names stable) ---
frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

$(UI_STAMP): frontend/node_modules/.package-lock.json $(UI_SOURCES)
	cd frontend && npm run build

ui: $(UI_STAMP)

test-ui: frontend/node_modules/.package-lock.json
	cd frontend && npm test

test-e2e-ui: $(BIN) plugins
	bash scripts/ensure-chromium.sh
	cd frontend && SWITCHBOARD_BIN=$(abspath $(BIN)) npm run e2e
# --- end frontend ---

pg:
	bash scripts/ensure-postgres.sh

test-go: pg $(BIN) test-deploy
	SWITCHBOARD_BIN=$(abspath $(BIN)) go test -count=1 -timeout 12m ./...

# deploy/ is a module of its own (the Kubernetes API types stay out of ours):
# strict decoding of the manifests and `docker compose config`.
test-deploy:
	bash scripts/ensure-compose.sh
	cd deploy && go test -count=1 ./...

test: test-go test-ui test-e2e-ui

# Scenario S1 against the real binary on SQLite and PostgreSQL, with the
# same load tool against a bare Go handler as the ceiling (docs/BENCHMARKS.md).
# A few minutes; not part of `make test`. BENCH_ARGS e.g. -db sqlite -phases c16.
bench: pg $(BIN)
	mkdir -p bin/bench
	go build -o bin/bench/load ./bench/load
	go build -o bin/bench/sink ./bench/sink
	go build -o bin/bench/harness ./bench/harness
	./bin/bench/harness -bin $(BIN) -load bin/bench/load -sink bin/bench/sink $(BENCH_ARGS)

# The Go micro-benchmarks of the packages.
bench-go: pg
	go test -run '^$$' -bench . -benchtime 2s ./internal/... ./connectors/wasm/

# Each fuzz target for FUZZTIME (make test only replays their seeds in testdata/fuzz);
# a crasher lands in the package's testdata/fuzz: commit it with its fix.
FUZZTIME ?= 30s
FUZZ_TARGETS := internal/trigger/webhook:FuzzParseBody internal/webhooksig:FuzzVerifyHeaders \
	internal/webhooksig:FuzzIPAllowed internal/webhooksig:FuzzStandardWebhooks internal/expr:FuzzCompileAndRun internal/expr:FuzzTemplate \
	internal/workflow:FuzzDocument connectors/declarative:FuzzParse internal/cronspec:FuzzParse \
	internal/formdef:FuzzParse internal/netguard:FuzzAddresses

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		go test ./$$pkg -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -parallel 2; done

clean:
	rm -rf bin
