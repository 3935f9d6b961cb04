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
test: ## go test every module in go.work
	@$(call EACH_MODULE,$(GO) test $(RACE) -count=1 ./...)

.PHONY: run
run: ## Run the all-in-one (embedded NATS + services); flags via DDR_* or ARGS
	$(GO) run ./services/allinone/cmd/ddr $(ARGS)

.PHONY: check
check: tools gen-check lint breaking ## Everything CI checks before the tests

.PHONY: ci
ci: check test ## What CI runs: check, then test

.PHONY: clean
clean: ## Remove bin/ and .build/
	rm -rf bin .build
