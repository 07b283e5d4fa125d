#!/usr/bin/env bash
# Instruction counts (valgrind callgrind) of the main commands, for two
# trustlog binaries on the same workload. Not a test and not run by CI.
#
#   BEFORE=/tmp/trustlog-before bash bench/instructions.sh          # 100k events
#   N=300000 BEFORE=/path/to/old/trustlog bash bench/instructions.sh
#
# Why instructions and not seconds: the machines are shared, and wall clock
# moves by ±30 % with a neighbour's build; callgrind's count is the same for
# the same binary, input and environment whatever else runs (checked: two
# runs of each step agree within 0.2 %; the reader thread's hand-offs and
# the temp dir's name are what varies). It does not see I/O
# waits or cache misses, so it complements bench/compare.sh, not replaces it.
#
# Steps, each on a fresh copy of one examples/synth.rs journal (N events):
# audit --json cold (no derived file), audit --json warm (checkpoint
# present, when the binary writes one), due, status, promise make (a
# validated, durable append on a journal with a checkpoint), verify.
# BEFORE unset: only this tree's build is counted.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
SEED=${SEED:-7}
END=${END:-1798761600} # 2027-01-01T00:00:00Z
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }

cargo build --release --quiet --bin trustlog --example synth
TARGET=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
AFTER="$TARGET/release/trustlog"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/trustlog-instr.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
export TZ=UTC TRUSTLOG_AUTHOR=bench
unset TRUSTLOG_FILE TRUSTLOG_NOW
NOW=$(date -u -d "@$END" +%Y-%m-%dT%H:%M:%SZ)

"$TARGET/release/examples/synth" --seed "$SEED" --end "$END" --only journal "$N" "$DIR/w" >/dev/null
cp "$DIR/w/journal.tlog" "$DIR/base.tlog"

# instructions of one command: `count BIN JOURNAL ARGS...`
count() {
  local bin=$1 j=$2
  shift 2
  valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$bin" --journal "$j" --now "$NOW" "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

fresh() { # a clean copy of the journal, nothing derived next to it
  rm -rf "$DIR/j" && mkdir "$DIR/j" && cp "$DIR/base.tlog" "$DIR/j/journal.tlog"
  echo "$DIR/j/journal.tlog"
}

measure() {
  local bin=$1 j
  j=$(fresh)
  printf '%s ' "$(count "$bin" "$j" audit --json)"
  printf '%s ' "$(count "$bin" "$j" audit --json)" # warm: the first wrote the checkpoint
  printf '%s ' "$(count "$bin" "$j" due)"
  printf '%s ' "$(count "$bin" "$j" status)"
  "$bin" --journal "$j" --now "$NOW" client add bench-client >/dev/null
  "$bin" --journal "$j" --now "$NOW" audit --json >/dev/null
  printf '%s ' "$(count "$bin" "$j" promise make bench-client "bench promise" --due 2027-02-01)"
  j=$(fresh)
  printf '%s\n' "$(count "$bin" "$j" verify)"
}

STEPS=("audit --json cold" "audit --json warm" "due (warm)" "status (warm)" "promise make" "verify")
read -r -a A <<<"$(measure "$AFTER")"
if [ -n "${BEFORE:-}" ]; then
  read -r -a B <<<"$(measure "$BEFORE")"
fi
echo "workload: synth --seed $SEED --end $END ($NOW) $N events; instructions (callgrind), millions"
if [ -n "${BEFORE:-}" ]; then
  echo "| step | before | after | after/before |"
  echo "|---|---:|---:|---:|"
  for i in "${!STEPS[@]}"; do
    awk -v s="${STEPS[$i]}" -v b="${B[$i]}" -v a="${A[$i]}" \
      'BEGIN { printf "| %s | %.1f | %.1f | %.3f |\n", s, b / 1e6, a / 1e6, a / b }'
  done
else
  echo "| step | instructions |"
  echo "|---|---:|"
  for i in "${!STEPS[@]}"; do
    awk -v s="${STEPS[$i]}" -v a="${A[$i]}" 'BEGIN { printf "| %s | %.1f |\n", s, a / 1e6 }'
  done
fi
