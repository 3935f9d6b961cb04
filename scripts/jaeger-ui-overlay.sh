#!/usr/bin/env bash
# Prints a `go build -overlay` file that puts the committed Jaeger UI
# assets (tools/jaeger/ui/assets/**.gz) into the Jaeger module's
# cmd/query/app/ui/actual/, which assets.go embeds (`//go:embed actual/*`)
# and serves through gzipfs (it opens <name>.gz). The module cache stays
# read-only: the overlay only tells the compiler where the files are.
#
#   scripts/jaeger-ui-overlay.sh <go command> > overlay.json
set -euo pipefail

go=${1:-go}
root=$(cd "$(dirname "$0")/.." && pwd)
assets=$root/tools/jaeger/ui/assets
[[ -f "$assets/index.html.gz" ]] || { echo "no $assets/index.html.gz" >&2; exit 1; }
mod=$(cd "$root/tools/jaeger" && GOWORK=off $go list -m -f '{{.Dir}}' github.com/jaegertracing/jaeger)
[[ -n "$mod" ]] || { echo "github.com/jaegertracing/jaeger not found from tools/jaeger" >&2; exit 1; }
actual=$mod/cmd/query/app/ui/actual

sep=
printf '{"Replace": {\n'
while read -r f; do
	f=${f#./}
	printf '%s  "%s": "%s"' "$sep" "$actual/$f" "$assets/$f"
	sep=$',\n'
done < <(cd "$assets" && find . -type f -name '*.gz' | sort)
printf '\n}}\n'
