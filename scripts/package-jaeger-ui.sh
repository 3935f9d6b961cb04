#!/usr/bin/env bash
# Copies a built jaeger-ui (packages/jaeger-ui/build of an installed and
# built source tree) into tools/jaeger/ui/: every file gzipped (what
# Jaeger's embedded file system serves), the UI's LICENSE, and
# THIRD_PARTY_NOTICES listing the npm packages the bundle can contain (the
# production dependency tree of jaeger-ui and plexus) with their licenses.
# Called by build-jaeger-ui.sh.
#
#   scripts/package-jaeger-ui.sh <jaeger-ui source dir> <tag>
set -euo pipefail

src=${1:?usage: $0 <jaeger-ui source dir> <tag>}
tag=${2:?tag}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/tools/jaeger/ui
build=$src/packages/jaeger-ui/build
[[ -f "$build/index.html" ]] || { echo "no $build/index.html: build jaeger-ui first" >&2; exit 1; }

rm -rf "$out/assets"
mkdir -p "$out/assets"
(cd "$build" && find . -type f | sort) | while read -r f; do
	mkdir -p "$out/assets/$(dirname "$f")"
	# -n: no name or time stamp, so a rebuild of the same sources is
	# byte-identical.
	gzip -9 -n -c "$build/$f" >"$out/assets/$f.gz"
done
cp "$src/LICENSE" "$out/LICENSE"
echo "$tag" >"$out/VERSION"

(cd "$src" && node - "$tag") >"$out/THIRD_PARTY_NOTICES" <<'JS'
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const tag = process.argv[2];
const seen = new Map();
for (const ws of ['packages/jaeger-ui', 'packages/plexus']) {
  let out;
  try {
    out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable', '-w', ws], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (e) {
    out = e.stdout; // npm ls exits non-zero on peer-dependency warnings
  }
  for (const dir of out.split('\n').filter(Boolean)) {
    if (!dir.includes('node_modules')) continue;
    let pkg;
    try {
      pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const key = `${pkg.name}@${pkg.version}`;
    if (seen.has(key) || pkg.name.startsWith('@jaegertracing/')) continue;
    const file = fs.readdirSync(dir).find(f => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file ? fs.readFileSync(path.join(dir, file), 'utf8').trim() : '';
    let license = pkg.license || (pkg.licenses || []).map(l => l.type || l).join(' OR ');
    if (typeof license === 'object') license = license.type;
    // A package without a license field may still ship its license file.
    if (!license) license = text ? `no license field; see its ${file} below` : 'UNKNOWN';
    seen.set(key, { key, license, text });
  }
}
const all = [...seen.values()].sort((a, b) => a.key.localeCompare(b.key));
console.log(`Third-party software bundled in the Jaeger UI ${tag} (tools/jaeger/ui/assets)

The Jaeger UI itself is licensed under the Apache License 2.0 (LICENSE).
Its bundle contains code of the npm packages below: the production
dependencies of jaeger-ui and plexus, as installed when the assets were
built (scripts/build-jaeger-ui.sh). ${all.length} packages.

Summary (package@version: license)
`);
for (const p of all) console.log(`  ${p.key}: ${p.license}`);
console.log('\nLicense texts, as shipped in each package\n');
for (const p of all) {
  console.log('='.repeat(72));
  console.log(`${p.key} (${p.license})`);
  console.log('-'.repeat(72));
  console.log(p.text || '(the package ships no license file; see its package.json license field)');
  console.log();
}
JS
echo "tools/jaeger/ui: $(find "$out/assets" -type f | wc -l) files, $(du -sh "$out/assets" | cut -f1) gzipped; $(grep -c '^  [^ ].*: ' "$out/THIRD_PARTY_NOTICES") third-party packages"
