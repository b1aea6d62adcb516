#!/usr/bin/env bash
# Run molecule scenarios and the integration tests in parallel lanes:
#   molecule_lanes.sh LANES JOB...      a JOB is a molecule scenario, or "integration" (the
#                                       integration tests, tests/integration)
#
# Jobs are independent (own hosts, own names, own API server). They wait in one queue, longest
# first (weights below); each lane takes the next job as soon as its previous one ends, so the
# lanes finish close together whatever the run-to-run variation. A job that needs the Kubernetes
# API server (kubernetes, openshift, kubernetes-pods) is passed over while a build runs (`kube.sh building`), as long as
# another job is waiting. Every job here is CPU-bound on the 2 cores of the test machine: more
# lanes than cores do not fill idle time, they stretch every job (JVMs live longer, waits poll
# more), and make test got slower with each lane added (docs/test-harness.md).
# Every job logs to .cache/molecule/<job>.log; the console gets one line per start and end, the
# failure lines and the tail of the log of any job that fails, and a summary that repeats the first
# lines saying why a job failed (pytest's E and FAILED lines, molecule's CRITICAL, Ansible's fatal).
# A scenario with an executable skip_reason.sh that exits 0 is not run: it is reported SKIPPED with
# the reason it printed (molecule/confluent without Confluent's archive), never as passed.
# Exit status: 0 only if every job that ran passed.
set -euo pipefail

lanes=${1:?usage: molecule_lanes.sh LANES JOB...}
shift
((lanes >= 1)) || { echo "molecule_lanes.sh: LANES must be 1 or more, not $lanes" >&2; exit 2; }
logdir=.cache/molecule
mkdir -p "$logdir"

# the queue's order: about the seconds each job takes with two lanes busy, from the last fresh-clone
# make test (12-04, 1413119): integration 1161 (the corpus and its check-mode previews: 589), security 903,
# kubernetes 889, reliability 759, migration 749, dedicated 660, openshift 632, rebalance 467;
# confluent is skipped here (no archive). Since then kubernetes left its roll and scale-out (about 420 s
# of it) to kubernetes-pods, which took 415 s alone on the machine (12-04, not yet measured in a lane)
weight() {
  case "$1" in
    migration) echo 750 ;; security) echo 900 ;; integration) echo 1160 ;; rebalance) echo 470 ;; reliability) echo 760 ;;
    dedicated) echo 660 ;; confluent) echo 10 ;; kubernetes) echo 470 ;; openshift) echo 630 ;;
    kubernetes-pods) echo 600 ;; *) echo 300 ;;
  esac
}

needs_api_server() { [[ $1 == kubernetes || $1 == openshift || $1 == kubernetes-pods ]]; }

build_running() { tests/harness/k8s/kube.sh building; }

# longest first; equal weights in name order
mapfile -t queue < <(for job in "$@"; do echo "$(weight "$job") $job"; done | sort -k1,1rn -k2,2 | cut -d' ' -f2)

# take the next job off the queue into $job: the first one that need not wait for the build, or
# the first one when all of them must
take_next() {
  local i
  for i in "${!queue[@]}"; do
    if ! needs_api_server "${queue[i]}" || ! build_running; then
      job=${queue[i]}
      unset 'queue[i]'
      queue=("${queue[@]}")
      return
    fi
  done
  job=${queue[0]}
  queue=("${queue[@]:1}")
}

run_job() {
  local lane=$1 job=$2 started=$SECONDS
  local cmd=(molecule test -s "$job") reason
  # a scenario that cannot run here says why (molecule/<job>/skip_reason.sh exits 0): SKIPPED, not passed
  if [[ -x molecule/$job/skip_reason.sh ]] && reason=$(molecule/"$job"/skip_reason.sh); then
    echo "=== lane $lane: $job SKIPPED: $reason" | tee "$logdir/$job.result"
    return 0
  fi
  if [[ $job == integration ]]; then cmd=(python -m pytest -q --durations=10 tests/integration); fi
  echo "=== lane $lane: ${cmd[*]} (log: $logdir/$job.log)"
  if "${cmd[@]}" >"$logdir/$job.log" 2>&1; then
    echo "=== lane $lane: $job passed in $((SECONDS - started)) s" | tee "$logdir/$job.result"
    return 0
  fi
  echo "=== lane $lane: $job FAILED after $((SECONDS - started)) s" | tee "$logdir/$job.result"
  # the few lines that say why (a failed task's message with it), repeated under the summary: a CI console
  # often keeps only its tail
  sed -E 's/\x1b\[[0-9;]*m//g; s/^ *│ ?//; s/^ *"//; s/\\n/\n/g' "$logdir/$job.log" \
    | grep -aE -A3 '^E  +[^ ]|^FAILED |CRITICAL|^\*  =>|fatal: \[' | grep -aE '^E  +[^ ]|^FAILED |CRITICAL|^\*  =>|fatal: \[|msg|failed' \
    | grep -av 'glob failed' | head -n 12 | cut -c1-600 \
    | sed "s/^/=== $job: why: /" >>"$logdir/$job.result" || true
  # molecule's clean-up after a failure pushes the failure itself out of the log's tail
  echo "=== $job: the log's failure lines (task failures, failed tests, errors):"
  grep -aE 'fatal:|FAILED|^E  |Error|Traceback|failed=[1-9]' "$logdir/$job.log" | grep -av 'failed=0' | tail -n 40 | sed "s/^/[$job] /" || true
  echo "=== $job: the last lines of its log:"
  tail -n 40 "$logdir/$job.log" | sed "s/^/[$job] /"
  return 1
}

declare -A lane_of=()
free=()
for ((i = 1; i <= lanes; i++)); do free+=("$i"); done
status=0
while ((${#queue[@]} > 0 || ${#lane_of[@]} > 0)); do
  while ((${#queue[@]} > 0 && ${#free[@]} > 0)); do
    take_next
    run_job "${free[0]}" "$job" &
    lane_of[$!]=${free[0]}
    free=("${free[@]:1}")
  done
  finished=""
  wait -n -p finished || status=1
  free+=("${lane_of[$finished]}")
  unset "lane_of[$finished]"
done

echo "=== molecule summary"
for job in "$@"; do cat "$logdir/$job.result" 2>/dev/null || echo "=== $job did not run"; done
exit $status
