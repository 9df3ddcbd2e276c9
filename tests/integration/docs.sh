#!/usr/bin/env bash
# The documentation stands on its own in a clone: every relative link of the
# README and docs/*.md names a file of the repository (nothing outside it,
# like ../shared), and the README defines every class that fptrace check
# reports, in one table.
source "$(dirname "$0")/common.bash"

for doc in README.md docs/*.md; do
  dir=$(dirname "$doc")
  # Markdown links [text](target), without URLs and in-page anchors.
  grep -oE '\]\([^)#][^)]*\)' "$doc" | sed -E 's/^\]\(//; s/\)$//; s/#.*//' |
    grep -vE '^[a-z]+:' | sort -u > "$tmp/links"
  while read -r target; do
    case $(realpath -m "$dir/$target") in
      "$PWD"/*) [ -e "$dir/$target" ] || fail "$doc links to $target, which does not exist" ;;
      *) fail "$doc links outside the repository: $target" ;;
    esac
  done < "$tmp/links"
  grep -n '\.\./shared' "$doc" && fail "$doc points into ../shared"
done
for f in docs/DESIGN.md docs/SEEDS.md; do
  grep -q "($f)" README.md || fail "README does not link $f"
done

# The classes fptrace knows, from a check of a real recording.
"$F" record -o "$tmp/t.fpt" -- "$B/progs/yield" -t 1 > /dev/null 2>&1 || fail "record yield"
"$F" check -i "$tmp/t.fpt" --format json > "$tmp/check.json"
classes=$(sed -n 's/.*"classes":{\([^}]*\)}.*/\1/p' "$tmp/check.json" | grep -oE '"[a-z-]+"' | tr -d '"')
[ -n "$classes" ] || fail "no classes in check --format json"
for cls in $classes; do
  n=$(grep -cE "^\| \`$cls\` \|" README.md)
  [ "$n" -eq 1 ] || fail "README defines class $cls in $n table rows, want 1"
done
# ...and in one table: the rows are consecutive.
rows=$(grep -nE '^\| `('"$(echo $classes | tr ' ' '|')"')` \|' README.md | cut -d: -f1)
first=$(echo "$rows" | head -1); last=$(echo "$rows" | tail -1)
[ $((last - first + 1)) -eq "$(echo "$rows" | wc -l)" ] || fail "the class rows are not one table"

# Every integration script and docs file the docs name exists.
for doc in README.md docs/*.md; do
  grep -oE '(tests/integration|scripts|docs)/[A-Za-z0-9_.-]+\.(sh|md|1)' "$doc" | sort -u |
    while read -r f; do [ -e "$f" ] || echo "$doc names $f"; done
done > "$tmp/missing"
[ -s "$tmp/missing" ] && fail "missing files: $(tr '\n' ' ' < "$tmp/missing")"

echo "docs: $fails failure(s)"
[ "$fails" -eq 0 ]
