#!/usr/bin/env bash
# Peak memory (maximum resident set size, GNU time's %M) of `report` and
# `import`, median of RUNS runs (issues 13 and 15.13). Not a test: it prints
# one table, for docs/performance.md.
#
#   bash bench/memory.sh                    # this tree's release build
#   TRUSTLOG_BIN=/path/to/old/trustlog bash bench/memory.sh   # another build
#   RUNS=1 bash bench/memory.sh
#
# Workloads, written into WORK (kept, and reused by the next run) or else a
# temp dir removed at the end; ~1.6 GB:
#   - report --html on synthetic journals of 10k and 200k events
#     (examples/synth.rs --seed 1, the same generator as bench/compare.sh);
#   - import of a 1 GiB file of random bytes (garbage), of one 500 MiB line
#     without a line break, and of a valid 100k-event `export` (JSON lines)
#     into an empty journal.
# The garbage and the long line are refused (exit 1): what is measured is
# how much memory the refusal takes.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
cargo build --release --quiet --example synth
BIN=${TRUSTLOG_BIN:-}
if [ -z "$BIN" ]; then
  cargo build --release --quiet
  BIN=$PWD/target/release/trustlog
fi
SYNTH=$PWD/target/release/examples/synth
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"
NOW=2026-11-22T12:00:00Z # synth's default end (now.txt)

# Median of the peak RSS (KiB) of RUNS runs of "$@"; the exit code must be
# $EXPECT (0 unless set).
peak() {
  local out=() i
  for ((i = 0; i < RUNS; i++)); do
    rm -f "$WORK/import.tlog" "$WORK"/import.tlog.* 2>/dev/null || true
    set +e
    /usr/bin/time -f %M -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt"
    local rc=$?
    set -e
    if [ "$rc" != "${EXPECT:-0}" ]; then
      echo "memory.sh: $* exited $rc, expected ${EXPECT:-0}:" >&2
      cat "$WORK/stderr.txt" >&2
      exit 1
    fi
    out+=("$(tail -1 "$WORK/time.txt")")
  done
  printf '%s\n' "${out[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

row() { printf '| %s | %s | %s MiB |\n' "$1" "$2" "$(mib "$3")"; }

for n in 10000 200000; do
  [ -f "$WORK/s$n/journal.tlog" ] || "$SYNTH" --seed 1 --only journal "$n" "$WORK/s$n" >/dev/null 2>&1
done
[ -f "$WORK/s100000/journal.tlog" ] || "$SYNTH" --seed 1 --only journal 100000 "$WORK/s100000" >/dev/null 2>&1
[ -f "$WORK/s100k.jsonl" ] ||
  "$BIN" --journal "$WORK/s100000/journal.tlog" --now "$NOW" export --format jsonl >"$WORK/s100k.jsonl"
[ -f "$WORK/garbage.bin" ] || head -c 1G /dev/urandom >"$WORK/garbage.bin"
[ -f "$WORK/line.txt" ] || head -c 500M /dev/zero | tr '\0' 'a' >"$WORK/line.txt"

echo "binary: $BIN; median of $RUNS runs; peak RSS from /usr/bin/time -f %M"
echo
echo "| command | input | peak RSS |"
echo "|---|---|---:|"
for n in 10000 200000; do
  j=$WORK/s$n/journal.tlog
  # No checkpoint is read or written by report; delete derived files anyway.
  rm -f "$j".* 2>/dev/null || true
  row "report --html" "$n events ($(du -h "$j" | cut -f1))" \
    "$(peak "$BIN" --journal "$j" --now "$NOW" report --html "$WORK/r.html")"
done
row "import (jsonl, refused)" "1 GiB of random bytes" \
  "$(EXPECT=1 peak "$BIN" --journal "$WORK/import.tlog" --now "$NOW" import "$WORK/garbage.bin")"
row "import (jsonl, refused)" "one 500 MiB line" \
  "$(EXPECT=1 peak "$BIN" --journal "$WORK/import.tlog" --now "$NOW" import "$WORK/line.txt")"
row "import (taskwarrior, refused)" "one 500 MiB line" \
  "$(EXPECT=1 peak "$BIN" --journal "$WORK/import.tlog" --now "$NOW" import --format taskwarrior "$WORK/line.txt")"
row "import (jsonl) into an empty journal" "100k events ($(du -h "$WORK/s100k.jsonl" | cut -f1))" \
  "$(peak "$BIN" --journal "$WORK/import.tlog" --now "$NOW" import "$WORK/s100k.jsonl")"
