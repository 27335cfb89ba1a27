#!/usr/bin/env bash
# Every file a document names must exist. Reads the Markdown files of the repository (README,
# ARCHITECTURE, BENCHMARKS, docs/, ...) and the comments of the C sources (product and tests):
#   - Markdown links ](path) that are not URLs or pure anchors, relative to the document;
#   - repository paths written in the text (lib/..., docs/..., tests/..., scripts/..., ...), with
#     a file extension, relative to the source root; a glob (`*`) or a placeholder (`<name>`) is
#     not a path.
# Prints each dangling reference as FILE:LINE: PATH and exits 1 when there is any.
#   tests/docs/check_links.sh [SOURCE_ROOT]
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$root"
bad=0
tops='lib|docs|tests|scripts|runtime-wrapper|hooks|gate|shim|config|bench|cmake|sandboxer|\.ci'
ext='c|h|md|sh|bats|json|json\.in|txt|py|toml|yml|yaml|cmake|sources|env'

mapfile -t docs < <(git ls-files '*.md' 2>/dev/null || find . -name '*.md' -not -path './build*')
mapfile -t srcs < <(git ls-files 'lib/*.[ch]' 'runtime-wrapper/*.[ch]' 'hooks/*.[ch]' 'gate/*.[ch]' 'shim/*.[ch]' 'tests/*.[ch]' \
  'CMakeLists.txt' '*/CMakeLists.txt' 2>/dev/null)

report() { echo "$1: $2"; bad=1; }

for f in "${docs[@]}"; do
  dir=$(dirname "$f")
  # Markdown links.
  while IFS=: read -r line target; do
    target=${target%%#*}
    [[ -z $target || $target == *://* || $target == mailto:* ]] && continue
    [[ -e $dir/$target ]] || report "$f:$line" "$target"
  done < <(grep -noE '\]\([^) ]+\)' "$f" | sed -E 's/^([0-9]+):\]\(([^)]*)\)$/\1:\2/')
done

for f in "${docs[@]}" "${srcs[@]}"; do
  # Paths in the text, relative to the root (a document may also name one relative to itself).
  dir=$(dirname "$f")
  while IFS=: read -r line path; do
    [[ $path == *'*'* || $path == *'<'* ]] && continue
    [[ -e $path || -e $dir/$path ]] || report "$f:$line" "$path"
  done < <(grep -noE "(^|[^A-Za-z0-9_./-])(\.\./)?($tops)/[A-Za-z0-9_./<>*+-]*\.($ext)\b" "$f" |
    sed -E 's/^([0-9]+):[^A-Za-z.]*/\1:/; s/^([0-9]+):\.\.\//\1:/')
done

if ((bad)); then
  echo "check_links: dangling references above" >&2
  exit 1
fi
echo "check_links: every referenced file exists (${#docs[@]} documents, ${#srcs[@]} sources)"
