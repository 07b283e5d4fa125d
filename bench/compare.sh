#!/usr/bin/env bash
# trustlog side by side with SQLite and Taskwarrior on the same data, in the
# same run (issue 5). Not a test: a benchmark that prints one table.
#
#   bash bench/compare.sh             # 1M events; verify also on 10M
#   SIZES=1000000 RUNS=5 bash bench/compare.sh
#   bash bench/compare.sh --smoke     # CI: 10k events, every step once, no timings
#
# Steps, all on one workload written by examples/synth.rs (a journal, the
# same events as an SQLite table, the same promises as Taskwarrior tasks):
#   - trustlog audit --json, cold (every derived file next to the journal
#     deleted before each run) and warm (with the checkpoint, when trustlog
#     writes one), vs sqlite3 computing the seven outcome counts from the
#     events (bench/audit_counts.sql). The counts MUST agree with trustlog's
#     `promises` (and bench/audit_check.sql with its `moves` and flags); the
#     script fails loudly if not.
#   - trustlog promise make vs task add (Taskwarrior holding the same promises).
#   - trustlog due vs task +OVERDUE list.
#   - trustlog verify on every size in SIZES.
#   - loading the data: trustlog import (of `trustlog export`'s JSON lines,
#     when both commands exist), sqlite3 reading events.sql, task import.
#
# Environment: SIZES (event counts; the first gets every comparison, the
# others verify only; default "1000000 10000000"), RUNS (timed runs per
# command, default 10; loads get at most 3), SEED, END (the workload's "now",
# epoch seconds; default the start of the run, so that Taskwarrior's clock,
# which cannot be pinned, agrees with trustlog's --now), LOAD_LIMIT (seconds
# after which one load run is stopped and reported as "> N s"; default 600).
# TRUSTLOG_BIN: benchmark that trustlog binary instead of this tree's
# release build (e.g. another branch's), with this tree's generator.
# Timing: hyperfine when installed (apt-get install hyperfine), else
# repeated runs and the median. Medians are wall clock of whole processes,
# page cache warm.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
case "${1:-}" in
  "") ;;
  --smoke) SMOKE=1 ;;
  -h | --help)
    sed -n "2,33p" "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "usage: bash bench/compare.sh [--smoke]" >&2
    exit 2
    ;;
esac
if [ "$SMOKE" = 1 ]; then
  SIZES=${SIZES:-10000}
  RUNS=1
else
  SIZES=${SIZES:-"1000000 10000000"}
  RUNS=${RUNS:-10}
fi
SEED=${SEED:-1}
END=${END:-$(date -u +%s)}
read -r -a SIZE_LIST <<<"$SIZES"
N=${SIZE_LIST[0]}

die() {
  printf 'compare.sh: %s\n' "$*" >&2
  exit 1
}
say() { printf '== %s\n' "$*" >&2; }
for tool in sqlite3 task; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "needs $tool: apt-get install -y sqlite3 taskwarrior"
done
HYPERFINE=0
if [ "$SMOKE" = 0 ] && command -v hyperfine >/dev/null 2>&1; then HYPERFINE=1; fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/trustlog-compare.XXXXXX")
trap 'rm -rf "$DIR"' EXIT

say "building (release)"
cargo build --release --quiet --bin trustlog --example synth
TARGET=${CARGO_TARGET_DIR:-target}
case "$TARGET" in /*) ;; *) TARGET="$PWD/$TARGET" ;; esac
T=${TRUSTLOG_BIN:-"$TARGET/release/trustlog"}
SYNTH="$TARGET/release/examples/synth"
ROOT=$PWD

# Nothing of the caller's trustlog or Taskwarrior set-up leaks in.
export XDG_CONFIG_HOME="$DIR/config" TRUSTLOG_AUTHOR=bench
unset TRUSTLOG_FILE TRUSTLOG_NOW
export TASKRC="$DIR/taskrc" TASKDATA="$DIR/task"
mkdir -p "$TASKDATA" "$XDG_CONFIG_HOME"
# Taskwarrior as a user would run it, minus what trustlog does not do either:
# no confirmations, no hooks, no recurrence, no nag about news. gc is off so
# that a timed command never includes a one-off garbage collection (import
# already files completed and deleted tasks in completed.data, as gc would).
cat >"$TASKRC" <<EOF
data.location=$TASKDATA
confirmation=off
hooks=off
gc=off
recurrence=off
verbose=nothing
news.version=$(task --version)
EOF

# ---------------------------------------------------------------- timing
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# bench RUNS PREPARE COMMAND [WARMUP]: median wall time in ms of
# `bash -c COMMAND` (stdout and stderr discarded), PREPARE run before each
# run (untimed), WARMUP untimed runs first (default 1 when RUNS >= 3).
# A failing command fails the script.
bench() {
  local runs=$1 prep=$2 cmd=$3 warmup=${4:-}
  [ -n "$warmup" ] || warmup=$((runs >= 3 ? 1 : 0))
  if [ "$HYPERFINE" = 1 ]; then
    local args=(--shell=bash --runs "$runs" --export-csv "$DIR/h.csv" --command-name x)
    [ "$warmup" -gt 0 ] && args+=(--warmup "$warmup")
    [ -n "$prep" ] && args+=(--prepare "$prep")
    hyperfine "${args[@]}" -- "$cmd" >"$DIR/hyperfine.log" 2>&1 ||
      { cat "$DIR/hyperfine.log" >&2; die "failed: $cmd"; }
    awk -F, 'NR == 2 {printf "%.1f", $4 * 1000}' "$DIR/h.csv"
    return
  fi
  local i s e
  for ((i = 0; i < warmup; i++)); do
    [ -n "$prep" ] && { bash -c "$prep" || die "prepare failed: $prep"; }
    bash -c "$cmd" >/dev/null 2>&1 || die "failed: $cmd"
  done
  for ((i = 0; i < runs; i++)); do
    [ -n "$prep" ] && { bash -c "$prep" || die "prepare failed: $prep"; }
    s=$(date +%s%N)
    bash -c "$cmd" >/dev/null 2>"$DIR/err" || { cat "$DIR/err" >&2; die "failed: $cmd"; }
    e=$(date +%s%N)
    echo $(((e - s) / 1000))
  done | median | awk '{printf "%.1f", $1 / 1000}'
}
q() { printf '%q ' "$@"; }

# bench_load PREPARE COMMAND: a load (no warm-up). One run first, stopped
# after LOAD_LIMIT seconds; a run over a minute is reported as is, else
# LOADS runs and the median.
bench_load() {
  local prep=$1 cmd=$2 s e
  bash -c "$prep" || die "prepare failed: $prep"
  s=$(date +%s%N)
  timeout "$LOAD_LIMIT" bash -c "$cmd" >/dev/null 2>"$DIR/err" || {
    local rc=$?
    [ "$rc" = 124 ] && { echo "> ${LOAD_LIMIT} s (stopped)"; return; }
    cat "$DIR/err" >&2
    die "failed: $cmd"
  }
  e=$(date +%s%N)
  if [ $(((e - s) / 1000000)) -gt 60000 ] || [ "$LOADS" -le 1 ]; then
    awk -v us=$(((e - s) / 1000)) 'BEGIN {printf "%.1f", us / 1000}'
  else
    bench "$LOADS" "$prep" "$cmd" 0
  fi
}

ROWS=()
# row WHAT DATA TRUSTLOG_MS OTHER OTHER_MS
row() {
  local ratio="n/a"
  case "$3$5" in
    *n/a*) ;;
    ">"*) ratio=$(awk -v t="${3//[^0-9.]/}" -v o="$5" 'BEGIN {printf "trustlog > %.0f× slower", t * 1000 / o}') ;;
    *) ratio=$(awk -v t="$3" -v o="$5" 'BEGIN {
         if (t <= 0 || o <= 0) print "n/a";
         else if (o >= t) printf "trustlog %.1f× faster", o / t;
         else printf "trustlog %.1f× slower", t / o }') ;;
  esac
  ROWS+=("| $1 | $2 | $3 | $4 | $5 | $ratio |")
}

# --------------------------------------------------------------- workload
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
NOW=$(date -u -d "@$END" +%Y-%m-%dT%H:%M:%SZ)
W="$DIR/w"
mkdir -p "$W" "$DIR/tl"
say "generating $N events (seed $SEED, now $NOW)"
"$SYNTH" --seed "$SEED" --end "$END" "$N" "$W"
J="$DIR/tl/journal.tlog"
mv "$W/journal.tlog" "$J"
DB="$DIR/events.db"
# Every file next to the journal but the journal is derived (a checkpoint,
# whatever its name): deleting them makes a query cold.
CLEAN=$(q find "$DIR/tl" -mindepth 1 ! -name journal.tlog -delete)
derived() { find "$DIR/tl" -mindepth 1 ! -name journal.tlog -printf '%f ' | sed 's/ $//'; }
label=$(awk -v n="$N" 'BEGIN { if (n >= 1e6 && n % 1e6 == 0) printf "%dM events", n / 1e6;
  else if (n >= 1e3 && n % 1e3 == 0) printf "%dk events", n / 1e3; else printf "%d events", n }')
LOADS=$((RUNS < 3 ? RUNS : 3))
LOAD_LIMIT=${LOAD_LIMIT:-600}

say "loading SQLite"
load_sql=$(bench_load "$(q rm -f "$DB")" "$(q sqlite3 "$DB") < $(q "$W/events.sql") > /dev/null")
[ -s "$DB" ] || die "sqlite3 did not load $W/events.sql"

# ------------------------------------------------------------------ audit
say "trustlog audit --json (cold) vs sqlite3"
AUDIT=$(q "$T" --journal "$J" --now "$NOW" audit --json)
audit_cold=$(bench "$RUNS" "$CLEAN" "$AUDIT")
bash -c "$CLEAN"
"$T" --journal "$J" --now "$NOW" audit --json >"$DIR/audit.json"
ckpt=$(derived)
if [ -n "$ckpt" ]; then
  say "warm audit (derived files after a query: $ckpt)"
  audit_warm=$(bench "$RUNS" "" "$AUDIT")
else
  audit_warm="n/a (no checkpoint yet)"
fi
SQLQ=$(q sqlite3 "$DB")" < $(q "$ROOT/bench/audit_counts.sql")"
audit_sql=$(bench "$RUNS" "" "$SQLQ")

# The check: SQLite's counts from the events == trustlog's `promises`.
json_fields() { # FILE PATH KEY…: "key=value …" from a JSON file, via SQLite's JSON functions
  local file=$1 path=$2 sel="" k
  shift 2
  for k in "$@"; do sel+="${sel:+ || ' ' || }'$k=' || json_extract(j, '$path.$k')"; done
  sqlite3 :memory: "SELECT $sel FROM (SELECT readfile('${file//\'/\'\'}') AS j);"
}
flag_counts() { # FILE KIND…: "kind=N …" of audit --json's flags
  local file=$1 sel="" k
  shift
  for k in "$@"; do
    sel+="${sel:+ || ' ' || }'$k=' || (SELECT COUNT(*) FROM json_each(j, '\$.flags') WHERE json_extract(value, '\$.kind') = '$k')"
  done
  sqlite3 :memory: "SELECT $sel FROM (SELECT readfile('${file//\'/\'\'}') AS j);"
}
sql_counts=$(bash -c "$SQLQ")
tl_counts=$(json_fields "$DIR/audit.json" '$.promises' kept_on_time kept_after_move kept_late \
  broken released open_overdue open total)
if [ "$sql_counts" != "$tl_counts" ]; then
  printf 'MISMATCH between SQLite and trustlog audit counts on the same events:\n  sqlite3:  %s\n  trustlog: %s\n' \
    "$sql_counts" "$tl_counts" >&2
  exit 1
fi
sql_check=$(sqlite3 "$DB" <"$ROOT/bench/audit_check.sql")
tl_check="$(json_fields "$DIR/audit.json" '$.moves' us client external after_due) $(flag_counts \
  "$DIR/audit.json" move_after_due backdated_keep blame_pattern retracted)"
if [ "$sql_check" != "$tl_check" ]; then
  printf 'MISMATCH between SQLite and trustlog audit moves/flags on the same events:\n  sqlite3:  %s\n  trustlog: %s\n' \
    "$sql_check" "$tl_check" >&2
  exit 1
fi
say "counts agree: $tl_counts"
say "moves and flags agree: $tl_check"

# ------------------------------------------------------------ Taskwarrior
say "task import"
load_task=$(bench_load "$(q rm -rf "$TASKDATA")"" && $(q mkdir -p "$TASKDATA")" \
  "$(q task import "$W/tasks.json")")
open_tl=$(json_fields "$DIR/audit.json" '$.promises' open open_overdue |
  awk -F'[= ]' '{print $2 + $4}')
pending_tw=$(task +PENDING count)
[ "$pending_tw" = "$open_tl" ] ||
  die "Taskwarrior holds $pending_tw pending tasks, trustlog $open_tl open promises: not the same data"

say "trustlog due vs task +OVERDUE list"
"$T" --journal "$J" --now "$NOW" --json due >"$DIR/due.json"
due_rows=$(sqlite3 :memory: "SELECT json_array_length(readfile('$DIR/due.json'), '\$.promises')")
overdue_tl=$(sqlite3 :memory: "SELECT COUNT(*) FROM json_each(readfile('$DIR/due.json'), '\$.promises')
  WHERE json_extract(value, '\$.overdue')")
overdue_tw=$(task +OVERDUE count)
due_tl=$(bench "$RUNS" "" "$(q "$T" --journal "$J" --now "$NOW" due)")
due_tw=$(bench "$RUNS" "" "$(q task +OVERDUE list)")

say "trustlog promise make vs task add"
cp -a "$DIR/tl" "$DIR/tl2"
J2="$DIR/tl2/journal.tlog"
"$T" --journal "$J2" --now "$NOW" client add bench-client >/dev/null
"$T" --journal "$J2" --now "$NOW" audit --json >/dev/null # refresh derived files, if any
DUE_DAY=$(date -u -d "@$((END + 7 * 86400))" +%Y-%m-%d)
make_tl=$(bench "$RUNS" "" "$(q "$T" --journal "$J2" --now "$NOW" promise make bench-client "bench promise" --due "$DUE_DAY")")
make_tw=$(bench "$RUNS" "" "$(q task add project:bench-client "bench promise" "due:$DUE_DAY")")

# ------------------------------------------------------------- verify
say "trustlog verify"
VERIFY=()
for n in "${SIZE_LIST[@]}"; do
  if [ "$n" = "$N" ]; then
    vj="$J"
  else
    mkdir -p "$DIR/v$n"
    say "generating $n events (journal only)"
    "$SYNTH" --seed "$SEED" --end "$END" --only journal "$n" "$DIR/v$n"
    vj="$DIR/v$n/journal.tlog"
  fi
  ms=$(bench "$RUNS" "" "$(q "$T" --journal "$vj" verify)")
  VERIFY+=("$n $ms")
  [ "$vj" = "$J" ] || rm -rf "$DIR/v$n"
done

# ------------------------------------------------------------- import
say "trustlog import"
if "$T" import --help >/dev/null 2>&1 && "$T" export --help >/dev/null 2>&1; then
  "$T" --journal "$J" export --format jsonl >"$DIR/events.jsonl"
  mkdir -p "$DIR/imp"
  IJ="$DIR/imp/journal.tlog"
  load_tl=$(bench_load "$(q rm -rf "$DIR/imp")"" && $(q mkdir -p "$DIR/imp")" \
    "$(q "$T" --journal "$IJ" --now "$NOW" import "$DIR/events.jsonl" --format jsonl)")
  # The imported journal answers the same audit (the last timed run left it).
  if [ "${load_tl#>}" = "$load_tl" ]; then
    "$T" --journal "$IJ" --now "$NOW" audit --json >"$DIR/audit-imp.json"
    imp_counts=$(json_fields "$DIR/audit-imp.json" '$.promises' kept_on_time kept_after_move \
      kept_late broken released open_overdue open total)
    [ "$imp_counts" = "$tl_counts" ] ||
      die "the imported journal audits differently: $imp_counts, not $tl_counts"
  fi
else
  load_tl="n/a (no import yet)"
fi

if [ "$SMOKE" = 1 ]; then
  say "smoke: every step ran; SQLite and trustlog agree on $label"
  exit 0
fi

# -------------------------------------------------------------- table
ntasks=$(wc -l <"$W/tasks.json")
row "\`audit --json\`, cold (no checkpoint)" "$label" "$audit_cold" "\`sqlite3\` seven outcome counts (bench/audit_counts.sql)" "$audit_sql"
row "\`audit --json\`, warm (checkpoint)" "$label" "$audit_warm" "\`sqlite3\` seven outcome counts" "$audit_sql"
row "\`promise make\` (durable)" "$label; $ntasks tasks" "$make_tl" "\`task add … due:\`" "$make_tw"
row "\`due\` ($due_rows rows, $overdue_tl overdue)" "$label; $ntasks tasks" "$due_tl" "\`task +OVERDUE list\` ($overdue_tw rows)" "$due_tw"
for v in "${VERIFY[@]}"; do
  read -r vn vms <<<"$v"
  vl=$(awk -v n="$vn" 'BEGIN { if (n >= 1e6 && n % 1e6 == 0) printf "%dM events", n / 1e6; else printf "%d events", n }')
  rate=$(awk -v n="$vn" -v ms="$vms" 'BEGIN {printf "%.2f", n / ms / 1000}')
  ROWS+=("| \`verify\` ($rate M records/s) | $vl | $vms | — | — | — |")
done
row "load: \`import\` of \`export --format jsonl\`" "$label" "$load_tl" "\`sqlite3\` reading events.sql (1 table, 2 indexes)" "$load_sql"
ROWS+=("| load: — | $ntasks tasks | — | \`task import tasks.json\` | $load_task | — |")

echo "load average (1 min) at the start: $LOAD0, at the end: $(cut -d' ' -f1 /proc/loadavg)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(date -u +%Y-%m-%d); $(sqlite3 --version | cut -d' ' -f1-2 | sed 's/^/sqlite3 /'), task $(task --version)$([ "$HYPERFINE" = 1 ] && echo ", $(hyperfine --version)")"
echo "workload: synth --seed $SEED --end $END ($NOW) $N; RUNS=$RUNS (loads: $LOADS); medians in ms, whole processes, warm page cache"
echo
echo "| operation | data | trustlog ms | compared with | ms | ratio |"
echo "|---|---|---:|---|---:|---|"
printf '%s\n' "${ROWS[@]}"
