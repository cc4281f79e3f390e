#!/usr/bin/env bash
# Writes a copy of policies/ whose enforced assignment (prod) covers the whole tenant, for generated fleets.
#
# usage: Benchmarks/tenant-policies.sh OUTDIR
#
# A generated fleet spreads its clusters over random subscriptions, outside the scopes of policies/. The copy
# keeps the definitions and the initiative, scopes the prod assignment to "/" and drops the dev assignment and
# the exemption (both name subscriptions of the example fleet): what fluxfleet-bench evaluates in-process.
set -euo pipefail
out=${1:?output directory}
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$out"
cp -R "$here/policies" "$out"
rm -f "$out/assignments/dev.json" "$out"/exemptions/*.json
sed -E -i.orig 's#"scope": *"[^"]*"#"scope": "/"#' "$out/assignments/prod.json"
rm -f "$out/assignments/prod.json.orig"
grep -q '"scope": "/"' "$out/assignments/prod.json"
