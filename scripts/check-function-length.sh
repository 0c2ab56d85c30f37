#!/usr/bin/env bash
# Lists every function over 80 lines and every source file over 500 lines outside tests/, minus
# the allowlisted ones; exits non-zero naming each offender (and each stale allowlist entry).
# Usage: scripts/check-function-length.sh [SOURCE_DIR]   (default: the repository root)
# Function extents come from universal-ctags (its `end` field); lambdas count toward the
# function that holds them. Allowlists (see their headers for the format):
#   scripts/function-length-allow.txt   path:function  # reason
#   scripts/file-length-allow.txt       path  # reason
set -euo pipefail

root="${1:-$(dirname "$0")/..}"
cd "$root"
function_max=80
file_max=500
dirs=(domain storage messages actors app bench include fuzz)
function_allow=scripts/function-length-allow.txt
file_allow=scripts/file-length-allow.txt

if ! ctags --version 2>/dev/null | grep -q "Universal Ctags"; then
  echo "check-function-length: universal-ctags is not installed (scripts/install-deps.sh installs" \
       "the Debian package universal-ctags)" >&2
  exit 2
fi

# Entries of an allowlist: "key<TAB>reason", comments and blank lines dropped. A reason is
# required and must say why: "data table: ..." or, for code another change is splitting,
# "TODO ...". Anything else is an error here, so the list cannot grow by habit.
read_allowlist() {
  local file="$1"
  [ -f "$file" ] || { echo "check-function-length: $file is missing" >&2; return 1; }
  awk -v file="$file" '
    /^[[:space:]]*(#|$)/ { next }
    {
      hash = index($0, "#")
      key = hash ? substr($0, 1, hash - 1) : $0
      reason = hash ? substr($0, hash + 1) : ""
      gsub(/^[[:space:]]+|[[:space:]]+$/, "", key)
      gsub(/^[[:space:]]+|[[:space:]]+$/, "", reason)
      if (reason !~ /^(data table: |TODO )/) {
        printf "%s:%d: \"%s\" needs a reason \"# data table: ...\" or \"# TODO ...\"\n", file, NR, key > "/dev/stderr"
        bad = 1
        next
      }
      print key "\t" reason
    }
    END { exit bad }' "$file"
}

allowed_functions="$(read_allowlist "$function_allow")"
allowed_files="$(read_allowlist "$file_allow")"

existing_dirs=()
for d in "${dirs[@]}"; do [ -d "$d" ] && existing_dirs+=("$d"); done
sources="$(find "${existing_dirs[@]}" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \
  -o -name '*.cc' -o -name '*.c' \) | LC_ALL=C sort)"

# key<TAB>lines for each function (key path:function) and each file (key path) over its limit.
long_functions="$(printf '%s\n' "$sources" |
  ctags -L - -x --languages=C,C++ --langmap=C++:+.h --kinds-C++=f --kinds-C=f --fields=+ne \
    --_xformat='%{input}	%{name}	%{line}	%{end}' |
  awk -F'\t' -v max="$function_max" '$4 != "" && $4 - $3 + 1 > max { print $1 ":" $2 "\t" ($4 - $3 + 1) }' |
  LC_ALL=C sort -u)"

long_files="$(printf '%s\n' "$sources" | while read -r f; do
  n=$(wc -l <"$f")
  if [ "$n" -gt "$file_max" ]; then printf '%s\t%s\n' "$f" "$n"; fi
done)"

failed=0
# Names each offender missing from the allowlist and each allowlist entry that no longer
# offends (remove it, so the list stays the current exceptions).
# Usage: compare OFFENDERS ALLOWED WHAT LIMIT ALLOWLIST_FILE
compare() {
  local offenders="$1" allowed="$2" what="$3" limit="$4" list="$5" key lines
  while IFS=$'\t' read -r key lines; do
    [ -n "$key" ] || continue
    if ! printf '%s\n' "$allowed" | cut -f1 | grep -qxF "$key"; then
      echo "$what over $limit lines: $key ($lines lines)"
      failed=1
    fi
  done <<<"$offenders"
  while IFS=$'\t' read -r key _; do
    [ -n "$key" ] || continue
    if ! printf '%s\n' "$offenders" | cut -f1 | grep -qxF "$key"; then
      echo "stale entry in $list: $key is not a $what over $limit lines"
      failed=1
    fi
  done <<<"$allowed"
}
compare "$long_functions" "$allowed_functions" function "$function_max" "$function_allow"
compare "$long_files" "$allowed_files" file "$file_max" "$file_allow"

if [ "$failed" -ne 0 ]; then
  echo "check-function-length: split the above into named steps or files" \
       "(or allowlist a data table with its reason)" >&2
  exit 1
fi
echo "check-function-length: no function over $function_max lines, no file over $file_max lines" \
     "(besides $(printf '%s\n' "$allowed_functions" | grep -c . || true) allowlisted functions," \
     "$(printf '%s\n' "$allowed_files" | grep -c . || true) files)"
