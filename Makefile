SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.SUFFIXES:
# Targets share gen/ and .build/; ci must run its steps in order.
.NOTPARALLEL:
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

GO ?= go
# Every go command of this Makefile (and of the scripts it runs) uses this
# toolchain: the go command fetches it through the module proxy on first use
# (seconds), so a machine needs only some Go >= 1.21 to start from. go1.26.8
# has standard-library vulnerabilities reachable from our code (make vuln).
# Override on the command line or in the environment, e.g. GOTOOLCHAIN=local.
export GOTOOLCHAIN ?= go1.27.3
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
# govulncheck and its database, offline (tools/vuln.mod pins both): the
# database is built from the golang.org/x/vulndb module's data/osv by its
# cmd/indexdb, once per pinned vulndb version.
VULN_GO := GOWORK=off $(GO) -C tools
VULNDB_VERSION := $(shell awk '$$1 == "golang.org/x/vulndb" { print $$2 }' tools/vuln.mod)
VULNDB := .build/vulndb/$(VULNDB_VERSION)
VULN_ALLOW := tools/vuln-allowlist.txt
# golangci-lint, built from tools/lint.mod (never a downloaded binary).
GOLANGCI_LINT := $(BIN)/golangci-lint
# The small commands of our own under tools/cmd, each a module.
TOOL_CMD_DIRS := tools/cmd/protovalidate-proto tools/cmd/vulngate
# Modules outside go.work, each built with its own go.mod (GOWORK=off):
# deploy/k8s checks the Kubernetes manifests with kustomize, the Kubernetes,
# cert-manager and prometheus-operator API types and Prometheus's rule
# parser, whose ~300 extra modules would otherwise join the services' build
# list in go.work (and move some of their versions).
OUTSIDE_WORK_DIRS := deploy/k8s
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

# Built on every run, a no-op when cached: the binary then always matches
# GOTOOLCHAIN and tools/lint.mod without a stamp to go stale.
.PHONY: golangci-lint
golangci-lint:
	@$(VULN_GO) build -modfile=lint.mod -o $(abspath $(BIN))/ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

.PHONY: lint
lint: tools validate-proto golangci-lint ## buf lint, buf format, golangci-lint (.golangci.yml) on every module, gofmt
	$(BUF) lint
	$(BUF) format -d --exit-code proto
	@$(call EACH_MODULE,echo "golangci-lint $${d#$(CURDIR)/}" && $(abspath $(GOLANGCI_LINT)) run --allow-parallel-runners ./...)
	@rc=0; for d in $(TOOL_CMD_DIRS) $(OUTSIDE_WORK_DIRS); do echo "golangci-lint $$d"; \
		(cd "$$d" && GOWORK=off $(abspath $(GOLANGCI_LINT)) run --allow-parallel-runners ./...) || rc=1; done; exit $$rc
	@out="$$(gofmt -l .)"; if [[ -n "$$out" ]]; then echo "gofmt -w needed on:" >&2; echo "$$out" >&2; exit 1; fi

$(VULNDB)/index/db.json: tools/vuln.mod tools/vuln.sum
	@echo "building the vulnerability database $(VULNDB_VERSION) into $(VULNDB)"
	$(VULN_GO) build -modfile=vuln.mod -o $(abspath $(BIN))/ golang.org/x/vulndb/cmd/indexdb
	rm -rf .build/vulndb && mkdir -p $(VULNDB)
	$(BIN)/indexdb -vulns "$$($(VULN_GO) list -modfile=vuln.mod -m -f '{{.Dir}}' golang.org/x/vulndb)/data/osv" -out $(abspath $(VULNDB))

.PHONY: vuln
vuln: $(VULNDB)/index/db.json ## govulncheck over every go.work module, offline; fails on a reachable finding not in tools/vuln-allowlist.txt or an expired entry
	@# govulncheck must be built by the toolchain whose standard library it checks.
	@$(VULN_GO) build -modfile=vuln.mod -o $(abspath $(BIN))/ golang.org/x/vuln/cmd/govulncheck
	@GOWORK=off $(GO) -C tools/cmd/vulngate build -o $(abspath $(BIN))/ .
	@$(GO) version
	$(BIN)/vulngate -govulncheck $(abspath $(BIN))/govulncheck -db $(abspath $(VULNDB)) -allow $(VULN_ALLOW) \
		-C "$$($(GO) list -m -f '{{.Dir}}' | head -1)" $$($(GO) list -m | sed 's|$$|/...|')
	@# Modules outside go.work (deploy/k8s) are checked on their own go.mod.
	@rc=0; for d in $(OUTSIDE_WORK_DIRS); do echo "govulncheck $$d"; \
		GOWORK=off $(BIN)/vulngate -govulncheck $(abspath $(BIN))/govulncheck -db $(abspath $(VULNDB)) -allow $(abspath $(VULN_ALLOW)) \
		-C "$(CURDIR)/$$d" ./... || rc=1; done; exit $$rc

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
test: $(JAEGER) ## go test every module in go.work and deploy/k8s (builds Jaeger first)
	@$(call EACH_MODULE,$(GO) test $(RACE) -count=1 -timeout 30m ./...)
	@# No goroutines of their own there; -race would only double the build
	@# of kustomize and the API types.
	@rc=0; for d in $(OUTSIDE_WORK_DIRS); do (cd "$$d" && GOWORK=off $(GO) test -count=1 -timeout 10m ./...) || rc=1; done; exit $$rc

# nats-server from the Go module the platform requires, for the fault runs
# and the projection-rebuild benchmark (a server process of its own).
NATS_SERVER := $(BIN)/nats-server

$(NATS_SERVER): services/platform/go.mod
	$(GO) build -o $@ github.com/nats-io/nats-server/v2

.PHONY: faults
faults: ## Kill services (SIGKILL), replicas and a NATS cluster node under load (also on the run-cluster layout); report lost (0) and duplicated (0), ~5 min
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
run: certs ## Run the dev OpenID provider, the all-in-one over mTLS and the console (http://127.0.0.1:7700); flags via DDR_* or ARGS; Ctrl-C stops all
	DDR_NOTIFICATION_CONTACTS="$${DDR_NOTIFICATION_CONTACTS-$(DEMO_CONTACTS)}" \
	DDR_NOTIFICATION_SMTP_ADDR="$${DDR_NOTIFICATION_SMTP_ADDR-$(DEMO_MAILBOX)}" \
	GO="$(GO)" ARGS="$(ARGS)" scripts/run.sh

# The deployment layout on one machine: the 3-node TLS cluster of
# deploy/nats (data in ./data/nats), the streams and buckets at 3 replicas,
# two replicas of each service (data and logs in ./data/cluster; gRPC on
# 7601-7604 and 7611-7614). Ctrl-C stops it all.
.PHONY: run-cluster
run-cluster: certs ## Run the 3-node TLS NATS cluster and two replicas of each service as processes; Ctrl-C stops all
	$(GO) build -o $(BIN)/ddr-cluster ./services/loadgen/cmd/ddr-cluster
	DDR_NOTIFICATION_CONTACTS="$${DDR_NOTIFICATION_CONTACTS-$(DEMO_CONTACTS)}" \
	DDR_NOTIFICATION_SMTP_ADDR="$${DDR_NOTIFICATION_SMTP_ADDR-$(DEMO_MAILBOX)}" \
	$(BIN)/ddr-cluster -pki-dir "$(PKI_DIR_SH)" -kek-file "$(SECRETS_DIR_SH)/kek" $(ARGS)

# Unless DDR_NOTIFICATION_* say otherwise, `make run` sends customer and DPA
# notices to the demo's mailbox (which `make demo` starts); nothing else
# listens there, so outside the demo they fail and are retried, harmlessly.
DEMO_CONTACTS := services/ddrctl/demo/contacts.json
DEMO_MAILBOX := 127.0.0.1:7690

.PHONY: demo
demo: ## Five requests down five policy paths with ddrctl, against `make run`
	GO="$(GO)" DEMO_MAILBOX_ADDR="$(DEMO_MAILBOX)" scripts/demo.sh

# The Jaeger UI: built assets committed in tools/jaeger/ui (rebuilt from a
# jaeger-ui snapshot by scripts/build-jaeger-ui.sh, not in CI), embedded by
# building Jaeger from a copy of its module holding them (the module cache
# stays read-only; go build -overlay refuses files beneath GOMODCACHE).
JAEGER_UI_ASSETS := $(shell find tools/jaeger/ui/assets -type f -name '*.gz' 2>/dev/null)
# Outside the work tree: the copy holds Go files that are not ours (one is
# not gofmt-clean), and lint runs gofmt on the whole tree. One per work
# tree, keyed by its path.
JAEGER_WITH_UI := $(HOME)/.cache/ddr/jaeger-with-ui-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1)

$(JAEGER_WITH_UI)/jaeger.mod: $(JAEGER_UI_ASSETS) tools/jaeger/go.mod tools/jaeger/go.sum scripts/jaeger-with-ui.sh
	scripts/jaeger-with-ui.sh "$(GO)" $(JAEGER_WITH_UI)

$(JAEGER): $(JAEGER_WITH_UI)/jaeger.mod
	@echo "building Jaeger with its UI into $@ (about 7 minutes and 2 GiB the first time)"
	GOWORK=off $(GO) -C tools/jaeger build -buildvcs=false -modfile=$(abspath $<) -o $(abspath $@) github.com/jaegertracing/jaeger/cmd/jaeger

# The Grafana dashboards are generated (deploy/observability/dashboards);
# its test fails when the committed JSON is not what the code makes.
.PHONY: dashboards
dashboards: ## Regenerate deploy/observability/dashboard-*.json from deploy/observability/dashboards
	$(GO) run ./deploy/observability/dashboards/cmd/ddr-dashboards -out deploy/observability

# OCI images of every binary, without a Docker daemon or a base image
# (deploy/images): .build/images/<name> is an OCI image layout tagged
# ddr/<name>:$(IMAGE_VERSION). Push one with any OCI client, e.g.
# `crane push .build/images/intake registry.example.com/ddr/intake:<tag>`.
IMAGE_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: images
images: ## Build the OCI image of each binary into .build/images (static, non-root, CA certificates and tzdata inside)
	$(GO) run ./deploy/images/cmd/ddr-images -out .build/images -version "$(IMAGE_VERSION)" \
		-commit "$$(git rev-parse HEAD 2>/dev/null)" -created "$$(git log -1 --format=%ct 2>/dev/null || echo 0)"

# The generated parts of deploy/k8s: the nats-server configuration (from
# services/platform/natsacl) and the PrometheusRule (from
# deploy/observability/alerts.yml); its test fails when they are stale.
.PHONY: k8s
k8s: ## Regenerate deploy/k8s/base/nats/nats.conf and base/prometheusrule.yaml
	GOWORK=off $(GO) -C deploy/k8s run ./cmd/ddr-k8s -dir .

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
check: tools gen-check lint breaking vuln ## Everything CI checks before the tests

.PHONY: ci
ci: check fuzz test ## What CI runs: check, fuzz (time-bounded), then test

.PHONY: clean
clean: ## Remove bin/ and .build/
	rm -rf bin .build
