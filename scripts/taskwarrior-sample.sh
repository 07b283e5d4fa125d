#!/usr/bin/env bash
# Builds a small Taskwarrior database with the real `task` binary in a new
# TASKDATA/TASKRC under DIR, and prints its `task export` on stdout.
# Used by tests/io_taskwarrior.rs; also a demo of the migration:
#   scripts/taskwarrior-sample.sh /tmp/tw > tasks.json
#   trustlog import tasks.json --format taskwarrior
#
# What it holds (the test checks the audit against this):
#   acme    "logo drafts"   due 2020-01-10, done 2020-01-08   -> kept on time
#   acme    "brand book"    due 2020-02-01, done now          -> kept late
#   acme    "truck livery"  due 2020-03-01, done 2020-03-05   -> kept late
#   acme    "letterhead"    due 2020-04-01, pending           -> open, overdue
#   Big.Co  "website"       due 2099-06-01, pending, annotated-> open; one interaction
#   Big.Co  "print ad"      due 2020-05-01, deleted           -> released
#   (none)  "no project"    due 2020-01-05                    -> not mapped: no client
#   acme    "no due"        priority H                        -> not mapped: not a promise
set -euo pipefail
dir=${1:?usage: taskwarrior-sample.sh DIR}
export TASKDATA="$dir/taskdata" TASKRC="$dir/taskrc" TZ=UTC
mkdir -p "$TASKDATA"
: >"$TASKRC"

# Non-interactive: no confirmations, no hooks, no network (no sync), only the
# new task's uuid printed by `add`.
t() {
  task rc.confirmation=off rc.hooks=off rc.verbose=new-uuid rc.json.array=on \
    rc.recurrence.confirmation=off "$@" </dev/null 2>/dev/null
}
add() {
  local out
  out=$(t add "$@")
  out=${out#Created task }
  echo "${out%.}"
}

a1=$(add project:acme "logo drafts" entry:2020-01-01 due:2020-01-10)
t "$a1" done end:2020-01-08 >/dev/null
a2=$(add project:acme "brand book" entry:2020-01-01 due:2020-02-01)
t "$a2" done >/dev/null # Taskwarrior sets end to now: years late
a3=$(add project:acme "truck livery" entry:2020-01-01 due:2020-03-01)
t "$a3" done end:2020-03-05 >/dev/null
add project:acme "letterhead" entry:2020-01-01 due:2020-04-01 >/dev/null
b1=$(add project:Big.Co "website" entry:2020-02-01 due:2099-06-01)
t "$b1" annotate "client called: wants it blue" >/dev/null
b2=$(add project:Big.Co "print ad" entry:2020-02-01 due:2020-05-01)
t "$b2" delete >/dev/null
add "no project" entry:2020-01-01 due:2020-01-05 >/dev/null
add project:acme "no due" entry:2020-01-01 priority:H >/dev/null

t export
