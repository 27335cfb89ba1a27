#!/usr/bin/env bash
# Turn run.sh's results.tsv into the markdown tables of docs/conformance.md: the counts per
# runtime and suite, then every test runsc-host fails with its class and reason, taken from the
# first matching line of classes.tsv (SUITE<TAB>REGEX on the test name<TAB>CLASS<TAB>REASON).
# A failure no line matches is printed as "unclassified", so a new failure is never hidden.
#
#   tests/conformance/report.sh RESULTS.tsv [CLASSES.tsv] [RUNTIME]   (default runsc-host)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
results=${1:?usage: report.sh RESULTS.tsv [CLASSES.tsv] [RUNTIME]}
classes=${2:-$here/classes.tsv}
rt=${3:-runsc-host}

echo "| runtime | runc bats: pass / fail / skip | runtime-tools: pass / fail / skip | both suites: pass |"
echo "|---|---|---|---|"
awk -F'\t' '{ k = $1; seen[k] = 1; order[k] = order[k] ? order[k] : ++n; c[k "," $2 "," $4]++ }
  END {
    for (k in seen) names[order[k]] = k
    for (i = 1; i <= n; i++) {
      k = names[i]
      printf "| %s | %d / %d / %d | %d / %d / %d | **%d** |\n", k, c[k ",runc,pass"], c[k ",runc,fail"],
        c[k ",runc,skip"], c[k ",rt,pass"], c[k ",rt,fail"], c[k ",rt,skip"], c[k ",runc,pass"] + c[k ",rt,pass"]
    }
  }' "$results"
echo
echo "| suite | test ($rt fails it) | raw runsc | class | reason |"
echo "|---|---|---|---|---|"
awk -F'\t' -v rt="$rt" -v classes="$classes" '
  BEGIN {
    while ((getline line < classes) > 0) {
      if (line ~ /^#/ || line == "") continue
      split(line, f, "\t"); nc++; cs[nc] = f[1]; cr[nc] = f[2]; cc[nc] = f[3]; cw[nc] = f[4]
    }
  }
  FNR == NR { if ($1 == "runsc") raw[$2 "\t" $3] = $4; next }
  $1 == rt && $4 == "fail" {
    cls = "unclassified"; why = $5
    for (i = 1; i <= nc; i++) if (cs[i] == $2 && $3 ~ cr[i]) { cls = cc[i]; why = cw[i]; break }
    r = raw[$2 "\t" $3]; if (r == "") r = "-"
    gsub(/\|/, "\\|", why); t = $3; gsub(/\|/, "\\|", t)
    printf "| %s | %s | %s | %s | %s |\n", $2, t, r, cls, why
  }' "$results" "$results"
echo
echo "Tests raw runsc passes and $rt does not:"
awk -F'\t' -v rt="$rt" 'FNR == NR { if ($1 == "runsc" && $4 == "pass") p[$2 "\t" $3] = 1; next }
  $1 == rt && $4 != "pass" && p[$2 "\t" $3] { printf "- %s %s (%s)\n", $2, $3, $4; n++ }
  END { if (!n) print "- none" }' "$results" "$results"
