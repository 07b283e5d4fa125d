#!/usr/bin/env bash
# Replay, checkpoint and recording figures (issue 5). Not run by CI.
#   bash bench/speed.sh                      # 100k, 1M and 10M events
#   SIZES="1000000" RUNS=9 bash bench/speed.sh
# For each size: a journal from `logbench gen`, then
#   - cold replay into all projections (logbench replay: state, audit,
#     trust scores, one client's post-mortem), in-process;
#   - `status`, `due`, `audit --json`: cold (no checkpoint, none written)
#     and warm (checkpoint at the end of the journal), whole process;
#   - `talk` (validated, durable) on a journal with a checkpoint: the
#     recording path of every day;
#   - peak RSS (/usr/bin/time -f %M) of each query, cold.
# Medians of RUNS runs (wall clock, ms). Copy the tables into
# docs/performance.md with the date and the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"100000 1000000 10000000"}
RUNS=${RUNS:-7}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/trustlog-speed.XXXXXX")
trap 'rm -rf "$DIR"' EXIT

cargo build --release --quiet --bin trustlog --example logbench
T=$PWD/target/release/trustlog
LB=$PWD/target/release/examples/logbench
export TRUSTLOG_NOW=2027-01-01 TZ=UTC

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# wall time of a command in ms, RUNS times, median
time_ms() {
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | median | awk '{printf "%.1f", $1/1000}'
}
peak_mb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1 | awk '{printf "%.0f", $1/1024}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(date -u +%Y-%m-%d), load $(cut -d' ' -f1 /proc/loadavg)"
printf '| events | cold replay, all projections (ms) | query | cold ms | warm ms | cold peak RSS MB | warm peak RSS MB |\n'
printf '|---:|---:|---|---:|---:|---:|---:|\n'
for n in $SIZES; do
  J="$DIR/j$n.tlog"
  $LB gen "$n" "$J" 2>/dev/null
  replay=$(for _ in $(seq "$RUNS"); do $LB replay "$J" | sed -E 's/.*streaming replay [^0-9]*([0-9.]+) s.*/\1/'; done | median | awk '{printf "%.0f", $1*1000}')
  for q in "status --json" "due --json" "audit --json"; do
    rm -f "$J.checkpoint"
    # shellcheck disable=SC2086
    cold=$(TRUSTLOG_CHECKPOINT_BYTES=0 time_ms "$T" $q --journal "$J")
    # shellcheck disable=SC2086
    cold_rss=$(TRUSTLOG_CHECKPOINT_BYTES=0 peak_mb "$T" $q --journal "$J")
    # shellcheck disable=SC2086
    "$T" $q --journal "$J" >/dev/null # writes the checkpoint
    # shellcheck disable=SC2086
    warm=$(time_ms "$T" $q --journal "$J")
    # shellcheck disable=SC2086
    warm_rss=$(peak_mb "$T" $q --journal "$J")
    printf '| %s | %s | `%s` | %s | %s | %s | %s |\n' "$n" "$replay" "$q" "$cold" "$warm" "$cold_rss" "$warm_rss"
  done
  for q in "trust client-7 --json" "postmortem client-7 --json"; do
    # shellcheck disable=SC2086
    cold=$(time_ms "$T" $q --journal "$J")
    # shellcheck disable=SC2086
    rss=$(peak_mb "$T" $q --journal "$J")
    printf '| %s | %s | `%s` (no checkpoint: streams the log) | %s | – | %s | – |\n' "$n" "$replay" "$q" "$cold" "$rss"
  done
  # Recording: the checkpoint exists (written above); each run appends one
  # event, so the tail stays far below the refresh threshold.
  cp "$J" "$J.a"; cp "$J.checkpoint" "$J.a.checkpoint"; sync
  talk=$(time_ms "$T" talk client-0 --journal "$J.a" --mood 1 "bench")
  talk_rss=$(peak_mb "$T" talk client-0 --journal "$J.a" --mood 1 "bench")
  printf '| %s | %s | `talk` (validated, durable, checkpoint) | – | %s | – | %s |\n' "$n" "$replay" "$talk" "$talk_rss"
  rm -f "$J" "$J.a" "$J.checkpoint" "$J.a.checkpoint"
done
