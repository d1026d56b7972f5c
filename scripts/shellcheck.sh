#!/usr/bin/env bash
# Runs shellcheck on every shell script of the repository (`npm run lint:shell`).
# Scripts are found by their first line (#!/bin/sh, #!/bin/bash, #!/usr/bin/env
# bash), not by extension: most of them have none. Sourced libraries carry no
# shebang and end in .sh instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "shellcheck is not installed: on Debian, apt-get install shellcheck (bash .ci/run does it); elsewhere see https://www.shellcheck.net" >&2
  exit 1
fi

scripts=()
while IFS= read -r -d '' file; do
  first="$(head -n 1 -- "$file")"
  if [[ "$first" =~ ^\#!.*[/\ ](ba)?sh$ ]] || [[ "$file" == *.sh ]]; then scripts+=("$file"); fi
done < <(find docker bench scripts .ci test/fixtures/shell -type f -not -path '*/node_modules/*' -print0 2>/dev/null | sort -z)

[ "${#scripts[@]}" -gt 0 ] || { echo "no shell script found (run from a checkout of the repository)" >&2; exit 1; }
# -x follows `source` to the files named by `# shellcheck source=` directives.
shellcheck -x "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"
