#!/usr/bin/env bash
# Replace the generated part of BENCHMARKS.md (between the "results:begin" and "results:end"
# markers) with the current bench/results/*.md, in a fixed order. The hand-written part above
# the markers (summary, targets, findings) is left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
doc=$here/../BENCHMARKS.md
res=$here/results
[[ -f $doc ]] || { echo "no $doc" >&2; exit 1; }
grep -q '^<!-- results:begin -->$' "$doc" && grep -q '^<!-- results:end -->$' "$doc" ||
  { echo "$doc has no results markers" >&2; exit 1; }
gen=$(mktemp)
trap 'rm -f "$gen"' EXIT
for n in rewrite passthrough lifecycle breakdown docker memory workload scale hook hooks gate; do
  [[ -f $res/$n.md ]] || continue
  {
    echo
    echo "## Results: $n"
    echo
    # Drop the per-file "generated" comment; keep the header lines (date, load, runsc).
    grep -v '^<!-- generated' "$res/$n.md"
  } >>"$gen"
done
awk -v gen="$gen" '
  /^<!-- results:begin -->$/ { print; while ((getline l < gen) > 0) print l; skip = 1; next }
  /^<!-- results:end -->$/ { skip = 0 }
  !skip { print }' "$doc" >"$doc.tmp"
mv "$doc.tmp" "$doc"
echo "BENCHMARKS.md: generated section refreshed from $res"
