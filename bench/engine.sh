#!/usr/bin/env bash
# Engine and recording benchmarks (issue 2 and 3 figures). Not run by CI.
#   bash bench/engine.sh            # 100k, 1M and 10M records
#   SIZES="100000 1000000" bash bench/engine.sh
# Prints a table of medians; copy it into docs/performance.md with the date.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"100000 1000000 10000000"}
RUNS=${RUNS:-7}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/trustlog-bench.XXXXXX")
trap 'rm -rf "$DIR"' EXIT

cargo build --release --quiet --bin trustlog --example logbench
T=target/release/trustlog
LB=target/release/examples/logbench

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# wall time of a command in milliseconds, RUNS times, median
time_ms() {
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | median | awk '{printf "%.2f", $1/1000}'
}
peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(date -u +%Y-%m-%d)"
printf '| records | file MB | scan M rec/s | verify ms | verify M rec/s | verify peak RSS MB | append ms (new process, log only) | talk ms (new process, validated) |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for n in $SIZES; do
  J="$DIR/j$n.tlog"
  $LB gen "$n" "$J" 2>/dev/null
  mb=$(( $(stat -c %s "$J") / 1000000 ))
  scan=$(for _ in $(seq "$RUNS"); do $LB scan "$J" | awk '{print $(NF-2)}'; done | median)
  ver=$(time_ms $T verify --journal "$J")
  rate=$(awk -v n="$n" -v ms="$ver" 'BEGIN {printf "%.2f", n/ms/1000}')
  rss=$(( $(peak_kb $T verify --journal "$J") / 1024 ))
  cp "$J" "$J.a"; sync
  app=$(time_ms $LB append "$J.a")
  talk=$(TRUSTLOG_NOW=2030-01-01 time_ms $T talk client-0 --journal "$J.a" --mood 1 "bench")
  rm -f "$J.a"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$mb" "$scan" "$ver" "$rate" "$rss" "$app" "$talk"
  rm -f "$J"
done
