#!/usr/bin/env bash
# Instructions per text report (callgrind): a deterministic parser-speed figure on machines where CPU time
# swings 2x with other load.  Needs valgrind.  Runs the corpus parse with 0 and N passes and prints the
# difference per report, row caches cleared every pass (as benchmarks/parse_throughput.py does).
#
#   benchmarks/parse_instructions.sh [PASSES]        # default 4 passes (~1 min)
set -euo pipefail
cd "$(dirname "$0")/.."
passes=${1:-4}
python=${PYTHON:-.venv/bin/python}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
script=$(mktemp --suffix=.py)
trap 'rm -f "$script" "$script".out.*' EXIT
cat > "$script" <<'PY'
import sys
from pathlib import Path

from govreports.parser import parse_bytes
from govreports.parser.tables import clear_row_caches

files = [p.read_bytes() for p in sorted(Path("tests/fixtures/corpus").rglob("*.txt"))]
for data in files:  # imports, regex compilation and spec loading are not throughput
    parse_bytes(data)
for _ in range(int(sys.argv[1])):
    clear_row_caches()
    for data in files:
        parse_bytes(data)
print(len(files))
PY
count() {
  valgrind --tool=callgrind --callgrind-out-file="$script.out.$1" "$python" "$script" "$1" >/dev/null 2>&1
  grep -m1 '^summary:\|^totals:' "$script.out.$1" | awk '{print $2}'
}
reports=$("$python" "$script" 0)
base=$(count 0)
total=$(count "$passes")
echo "$(( (total - base) / (passes * reports) )) instructions per report ($reports corpus texts, $passes passes, callgrind)"
