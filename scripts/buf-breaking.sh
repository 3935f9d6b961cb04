#!/usr/bin/env bash
# buf breaking against a base commit, without network.
#
# buf's own '.git#ref' input cannot see buf/validate/validate.proto (it is
# printed into the gitignored .build/protovalidate), so the base's files are
# exported from git into a temporary directory, the validate folder is printed
# there too, and buf builds an image of the base to compare against.
#
# BASE: a commit; when empty, the merge base with origin/main, or HEAD~1 when
# that is HEAD itself (CI on main). BUF: path of the buf binary.
set -euo pipefail

cd "$(git rev-parse --show-toplevel)"
: "${BUF:?BUF must name the buf binary}"
base="${BASE:-}"

if [[ -z "$base" ]]; then
	if mb="$(git merge-base HEAD origin/main 2>/dev/null)" && [[ "$mb" != "$(git rev-parse HEAD)" ]]; then
		base="$mb"
	else
		base="HEAD~1"
	fi
fi

if ! commit="$(git rev-parse -q --verify "${base}^{commit}" 2>/dev/null)"; then
	echo "breaking: no base commit '${base}' (first commit or shallow clone); nothing to compare."
	exit 0
fi
if ! git cat-file -e "${commit}:proto" 2>/dev/null; then
	echo "breaking: base ${commit:0:12} has no proto/; nothing to compare."
	exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

git archive "$commit" proto | tar -x -C "$tmp"
# The base's buf.yaml when it has one: its module layout built its files.
if git cat-file -e "${commit}:buf.yaml" 2>/dev/null; then
	git show "${commit}:buf.yaml" >"$tmp/buf.yaml"
else
	cp buf.yaml "$tmp/buf.yaml"
fi
GOWORK=off "${GO:-go}" -C tools/cmd/protovalidate-proto run . -out "$tmp/.build/protovalidate"
(cd "$tmp" && "$BUF" build proto -o base.binpb)

echo "buf breaking proto --against ${commit:0:12}"
"$BUF" breaking proto --against "$tmp/base.binpb"
