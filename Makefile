SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.SUFFIXES:
# Targets share gen/ and .build/; ci must run its steps in order.
.NOTPARALLEL:
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

GO ?= go
# Empty it (RACE=) on a machine without a C compiler.
RACE ?= -race
# Extra arguments for `make run`.
ARGS ?=
# Commit `make breaking` compares against; empty means the merge base with
# origin/main, or HEAD~1 when that is HEAD itself (see scripts/buf-breaking.sh).
BASE ?=

BIN := .build/bin
BUF := $(BIN)/buf
# Jaeger is a Go tool in a module of its own (it pins older grpc/otel).
JAEGER := $(BIN)/jaeger
JAEGER_CONFIG := tools/jaeger/config.yaml
VALIDATE_DIR := .build/protovalidate
# The tools live outside go.work: buf needs a pre-release protobuf.
TOOLS_GO := GOWORK=off $(GO) -C tools
PROTOVALIDATE_PROTO := GOWORK=off $(GO) -C tools/cmd/protovalidate-proto run .
# Directories of the modules in go.work, one per line.
MODULE_DIRS = $$($(GO) list -m -f '{{.Dir}}')
# Runs $(1) in each go.work module and fails if it failed in any. Skips a
# module with no packages yet (go vet/test fail on those); one that does not
# load is not skipped, so its error shows.
EACH_MODULE = rc=0; for d in $(MODULE_DIRS); do \
	if pkgs="$$(cd "$$d" && $(GO) list ./... 2>/dev/null)" && [[ -z "$$pkgs" ]]; then continue; fi; \
	(cd "$$d" && $(1)) || rc=1; \
	done; exit $$rc

.PHONY: help
help: ## Describe the targets
	@echo "Usage: make <target>"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

.PHONY: tools
tools: $(BUF) ## Build buf, the protoc plugins and the validate.proto exporter
	@$(TOOLS_GO) tool -modfile=gen.mod protoc-gen-go --version >/dev/null
	@$(TOOLS_GO) tool -modfile=gen.mod protoc-gen-go-grpc --version >/dev/null
	@GOWORK=off $(GO) -C tools/cmd/protovalidate-proto build -o /dev/null .

$(BUF): tools/go.mod tools/go.sum
	$(TOOLS_GO) build -buildvcs=false -o $(abspath $@) github.com/bufbuild/buf/cmd/buf
	@$@ --version

.PHONY: validate-proto
validate-proto: ## Print buf/validate/validate.proto into .build/protovalidate
	$(PROTOVALIDATE_PROTO) -out $(abspath $(VALIDATE_DIR))

.PHONY: generate
generate: tools validate-proto ## Generate gen/ from proto/ (gen/ is committed)
	$(BUF) generate

.PHONY: gen-check
gen-check: generate ## Fail if generate changes gen/ or proto/
	@if [[ -n "$$(git status --porcelain -- gen proto)" ]]; then \
		echo "gen/ is not what proto/ generates; run make generate and commit:" >&2; \
		git status --porcelain -- gen proto >&2; \
		git --no-pager diff -- gen proto >&2; \
		exit 1; \
	fi

.PHONY: lint
lint: tools validate-proto ## buf lint, go vet on every module, gofmt
	$(BUF) lint
	@$(call EACH_MODULE,echo "go vet $${d#$(CURDIR)/}" && $(GO) vet ./...)
	@GOWORK=off $(GO) -C tools/cmd/protovalidate-proto vet ./...
	@out="$$(gofmt -l .)"; if [[ -n "$$out" ]]; then echo "gofmt -w needed on:" >&2; echo "$$out" >&2; exit 1; fi

.PHONY: breaking
breaking: tools validate-proto ## buf breaking against BASE, offline
	GO="$(GO)" BUF="$(abspath $(BUF))" BASE="$(BASE)" scripts/buf-breaking.sh

.PHONY: build
build: ## Build every services/*/cmd/* binary into ./bin
	@shopt -s nullglob; cmds=(services/*/cmd/*/); \
	if (( $${#cmds[@]} == 0 )); then echo "no services/*/cmd/* yet"; exit 0; fi; \
	echo "go build -o bin/ $${cmds[*]}"; \
	$(GO) build -o bin/ $${cmds[@]/#/./}

.PHONY: test
# The end-to-end trace test runs the Jaeger binary, so it is built first.
test: $(JAEGER) ## go test every module in go.work (builds Jaeger first)
	@$(call EACH_MODULE,$(GO) test $(RACE) -count=1 ./...)

# nats-server from the Go module the platform requires, for the fault runs
# and the projection-rebuild benchmark (a server process of its own).
NATS_SERVER := $(BIN)/nats-server

$(NATS_SERVER): services/platform/go.mod
	$(GO) build -o $@ github.com/nats-io/nats-server/v2

.PHONY: faults
faults: ## Kill services (SIGKILL) and a NATS cluster node under load; report lost (0) and duplicated (0), ~3 min
	cd services/loadgen && DDR_FAULTS=1 $(GO) test -count=1 -v -timeout 20m -run . ./faults/ 2>&1 | grep -v '^\s*\[[0-9]' ; exit $${PIPESTATUS[0]}

# Sizes of `make bench`, sized to finish in under 10 minutes on 2 cores;
# `make bench BENCH_ARGS=-full` is the documented full run (see bench/RESULTS.md).
BENCH_ARGS ?=

.PHONY: bench
bench: $(NATS_SERVER) ## Load the suite and, in the same run, raw gRPC and JetStream baselines; writes bench/results.json and bench/RESULTS.md
	$(GO) run ./services/loadgen/cmd/loadgen -nats-server $(NATS_SERVER) -out bench $(BENCH_ARGS)

# The development PKI (CA, certificates, staff roles, KEK): `make run` serves
# mTLS with it. Same defaults as the binary: <data dir>/pki, and the KEK and
# fingerprint key in ./secrets, beside the data directory, never inside it.
PKI_DIR_SH := $${DDR_PKI_DIR:-$${DDR_DATA_DIR:-./data}/pki}
SECRETS_DIR_SH := $$(dirname "$${DDR_DATA_DIR:-./data}")/secrets

.PHONY: certs
certs: ## Create or renew the development PKI in ./data/pki (idempotent)
	$(GO) run ./services/platform/cmd/ddr-pki -dir "$(PKI_DIR_SH)" -secrets "$(SECRETS_DIR_SH)"

# The secure cluster's nats-server configurations (deploy/nats), rendered
# from the NATS permission table in services/platform/natsacl; a test fails
# when they are not current.
.PHONY: natsconf
natsconf: ## Render deploy/nats/n{1,2,3}.conf (TLS, verify_and_map, per-service users) from services/platform/natsacl
	$(GO) run ./services/platform/cmd/ddr-natsconf -out deploy/nats

.PHONY: run
run: certs ## Run the all-in-one over mTLS (embedded NATS + services); flags via DDR_* or ARGS
	DDR_NOTIFICATION_CONTACTS="$${DDR_NOTIFICATION_CONTACTS-$(DEMO_CONTACTS)}" \
	DDR_NOTIFICATION_SMTP_ADDR="$${DDR_NOTIFICATION_SMTP_ADDR-$(DEMO_MAILBOX)}" \
	$(GO) run ./services/allinone/cmd/ddr $(ARGS)

# Unless DDR_NOTIFICATION_* say otherwise, `make run` sends customer and DPA
# notices to the demo's mailbox (which `make demo` starts); nothing else
# listens there, so outside the demo they fail and are retried, harmlessly.
DEMO_CONTACTS := services/ddrctl/demo/contacts.json
DEMO_MAILBOX := 127.0.0.1:7690

.PHONY: demo
demo: ## Four requests down four policy paths with ddrctl, against `make run`
	GO="$(GO)" DEMO_MAILBOX_ADDR="$(DEMO_MAILBOX)" scripts/demo.sh

$(JAEGER): tools/jaeger/go.mod tools/jaeger/go.sum
	@echo "building Jaeger into $@ (about 7 minutes and 2 GiB the first time)"
	GOWORK=off $(GO) -C tools/jaeger build -buildvcs=false -o $(abspath $@) github.com/jaegertracing/jaeger/cmd/jaeger

.PHONY: jaeger-build
jaeger-build: $(JAEGER) ## Build Jaeger into .build/bin (tools/jaeger)

.PHONY: jaeger
jaeger: $(JAEGER) ## Run Jaeger on loopback, traces in memory: OTLP 127.0.0.1:4317, UI http://127.0.0.1:16686
	$(JAEGER) --config $(JAEGER_CONFIG)

# How long `make fuzz` runs each fuzz test. Plain `go test` runs their seed
# corpus only.
FUZZTIME ?= 10s

.PHONY: fuzz
fuzz: ## Run every Fuzz test for FUZZTIME each
	@rc=0; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' services | xargs -n1 dirname | sort -u); do \
		for f in $$($(GO) test -list '^Fuzz' "./$$dir" | grep '^Fuzz'); do \
			echo "fuzz $$dir $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) "./$$dir" || rc=1; \
		done; \
	done; exit $$rc

.PHONY: check
check: tools gen-check lint breaking ## Everything CI checks before the tests

.PHONY: ci
ci: check fuzz test ## What CI runs: check, fuzz (time-bounded), then test

.PHONY: clean
clean: ## Remove bin/ and .build/
	rm -rf bin .build
