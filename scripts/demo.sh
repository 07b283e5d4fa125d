#!/usr/bin/env bash
# Builds trustlog (release) and records a small sample journal from the shell,
# the way a consultant would, then audits and verifies it.
#   ./scripts/demo.sh            # journal in a temporary directory
#   ./scripts/demo.sh my.tlog    # keep the journal
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
T="$PWD/target/release/trustlog"
J=${1:-$(mktemp -d "${TMPDIR:-/tmp}/trustlog-demo.XXXXXX")/journal.tlog}
rm -f "$J"
export TRUSTLOG_FILE="$J" TRUSTLOG_AUTHOR=demo
at() { export TRUSTLOG_NOW="$1"; }
run() { echo "\$ trustlog $*"; "$T" "$@"; }

at 2026-09-01T09:00
run client add acme --name "Acme Ltd" --fit target --note "met at the design fair"
run client want acme "a logo that works on their delivery trucks"
run talk acme --kind meeting --mood 2 --minutes 60 --by client "kick-off: enthusiastic"
logo=$(run promise make acme "three logo concepts" --due 2026-09-12 | tail -n1)
site=$(run promise make acme "landing page" --due 2026-09-30 | tail -n1)
run client add globex --name "Globex" --fit off-target
run talk globex --kind call --mood -2 --minutes 15 "angry about the quote"
brief=$(run promise make globex "brand brief" --due 2026-09-05 | tail -n1)

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
run promise make acme "brand guidelines booklet" --due 2026-10-12 >/dev/null
run promise make acme "truck livery mock-ups" --due 2026-10-05 --at 2026-10-01 >/dev/null

at 2026-10-10T09:00
for q in status due audit "trust acme --history" "postmortem globex"; do
  # shellcheck disable=SC2086
  if "$T" help ${q%% *} >/dev/null 2>&1; then run $q; fi
done
run head
run verify
echo "journal: $J"
