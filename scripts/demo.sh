#!/usr/bin/env bash
# Builds trustlog (release) and records a small sample journal from the shell,
# the way a consultant would, then audits and verifies it.
#   ./scripts/demo.sh            # journal in a temporary directory
#   ./scripts/demo.sh my.tlog    # keep the journal
# The binary is cargo's, in $CARGO_TARGET_DIR (default: target/); with
# TRUSTLOG_BIN=path that binary is used and nothing is built.
set -euo pipefail
# A relative journal path is the caller's, not the repository's.
J=${1:-$(mktemp -d "${TMPDIR:-/tmp}/trustlog-demo.XXXXXX")/journal.tlog}
case "$J" in /*) ;; *) J="$PWD/$J" ;; esac
cd "$(dirname "$0")/.."
if [ -n "${TRUSTLOG_BIN:-}" ]; then
  T=$TRUSTLOG_BIN
else
  cargo build --release --quiet
  # cargo reads a relative CARGO_TARGET_DIR against this directory too.
  T="${CARGO_TARGET_DIR:-target}/release/trustlog"
  case "$T" in /*) ;; *) T="$PWD/$T" ;; esac
fi
rm -f "$J"
export TRUSTLOG_FILE="$J" TRUSTLOG_AUTHOR=demo
at() { export TRUSTLOG_NOW="$1"; }
# The command as one would type it: arguments with spaces or quotes quoted.
show() {
  local line='$ trustlog' a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:+=@,-]+$ ]]; then
      line+=" $a"
    else
      line+=" '${a//\'/\'\\\'\'}'"
    fi
  done
  echo "$line"
}
run() { show "$@"; "$T" "$@"; }
# `run` that also keeps the last line printed (a new promise's id) in $1.
keep() {
  local var=$1 out
  shift
  show "$@"
  out=$("$T" "$@")
  echo "$out"
  printf -v "$var" '%s' "${out##*$'\n'}"
}

at 2026-09-01T09:00
run client add acme --name "Acme Ltd" --fit target --note "met at the design fair"
run client want acme "a logo that works on their delivery trucks"
run talk acme --kind meeting --mood 2 --minutes 60 --by client "kick-off: enthusiastic"
keep logo promise make acme "three logo concepts" --due 2026-09-12
keep site promise make acme "landing page" --due 2026-09-30
run client add globex --name "Globex" --fit off-target
run talk globex --kind call --mood -2 --minutes 15 "angry about the quote"
keep brief promise make globex "brand brief" --due 2026-09-05

at 2026-09-10T17:00
run promise keep "$logo" --at 2026-09-10T16:30
run promise move "$brief" --due 2026-09-15 --cause client --reason "their input came late"

at 2026-09-20T10:00
run promise move "$brief" --due 2026-09-25 --cause client --agreed --reason "legal review"
run client mismatch globex "expected a full campaign, not a brief"
run promise move "$site" --due 2026-10-07 --cause us --agreed --reason "designer ill"

at 2026-10-08T09:00
run promise keep "$site" --at 2026-10-07T18:00
run client praise acme --kind referral "introduced us to Initech"
run promise break "$brief" --reason "client stopped answering"
run client lost globex --reason "went with a cheaper agency"
run promise make acme "brand guidelines booklet" --due 2026-10-12
run promise make acme "truck livery mock-ups" --due 2026-10-05 --at 2026-10-01

at 2026-10-10T09:00
for q in status due audit "trust acme --history" "postmortem globex"; do
  # shellcheck disable=SC2086
  if "$T" help ${q%% *} >/dev/null 2>&1; then run $q; fi
done
run head
run verify
echo "journal: $J"
