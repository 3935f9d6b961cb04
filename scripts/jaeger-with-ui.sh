#!/usr/bin/env bash
# Prepares the Jaeger build with its UI: a writable copy of the Jaeger
# module (the version tools/jaeger requires) with the committed UI assets
# (tools/jaeger/ui/assets/**.gz) in cmd/query/app/ui/actual/, which
# assets.go embeds (`//go:embed actual/*`) and serves through gzipfs (it
# opens <name>.gz), and a modfile that replaces the module with that copy.
#
# Why a copy: Jaeger v1.76.0 has no build tag for the UI, it embeds that
# directory of its own module; the module cache is read-only, and
# `go build -overlay` refuses files beneath GOMODCACHE ("Files beneath
# GOMODCACHE must not be replaced", go1.27). The copy is 12 MB under
# the user cache (outside the work tree: lint runs gofmt on the whole
# tree); nothing in the module cache changes.
#
#   scripts/jaeger-with-ui.sh <go command> <out dir>
# then: go -C tools/jaeger build -modfile=<out dir>/jaeger.mod ...
set -euo pipefail

go=${1:-go}
out=${2:?usage: $0 <go command> <out dir>}
root=$(cd "$(dirname "$0")/.." && pwd)
assets=$root/tools/jaeger/ui/assets
[[ -f "$assets/index.html.gz" ]] || { echo "no $assets/index.html.gz" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
# `go list -m` names the module's directory only once it is in the module
# cache, which a fresh machine's is not: download it first (a no-op when
# it is there).
(cd "$root/tools/jaeger" && GOWORK=off $go mod download github.com/jaegertracing/jaeger)
mod=$(cd "$root/tools/jaeger" && GOWORK=off $go list -m -f '{{.Dir}}' github.com/jaegertracing/jaeger)
[[ -d "$mod" ]] || { echo "github.com/jaegertracing/jaeger not found from tools/jaeger" >&2; exit 1; }

rm -rf "$out/jaeger-module"
cp -R "$mod" "$out/jaeger-module"
chmod -R u+w "$out/jaeger-module"
actual=$out/jaeger-module/cmd/query/app/ui/actual
(cd "$assets" && find . -type f -name '*.gz') | while read -r f; do
	mkdir -p "$actual/$(dirname "$f")"
	cp "$assets/$f" "$actual/$f"
done

cp "$root/tools/jaeger/go.mod" "$out/jaeger.mod"
cp "$root/tools/jaeger/go.sum" "$out/jaeger.sum"
printf '\nreplace github.com/jaegertracing/jaeger => %s\n' "$out/jaeger-module" >>"$out/jaeger.mod"
