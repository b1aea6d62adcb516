#!/usr/bin/env bash
# Run molecule scenarios in parallel lanes:
#   molecule_lanes.sh LANES JOB...      a JOB is a molecule scenario, or "integration" (the
#                                       integration tests; make test runs them before, on their own)
#
# Scenarios are independent (own hosts, own names), and most of their time is spent waiting for
# JVMs, systemd and ansible round trips, so two lanes on two cores finish well before one.
# The Kubernetes scenarios (kubernetes, openshift) boot no test hosts and run no Kafka cluster but
# a small stand-in, and the integration tests boot no hosts either: they share a lane of their own
# beside the others (integration first, while the API server build may still run).
# Jobs go longest first to the lane with the least work (weights below: minutes measured on this
# 2-core machine in a fresh-clone make test, every lane busy); each lane runs its jobs one after
# the other. Every job logs to .cache/molecule/<job>.log; the console gets one line per start and
# end, the failure lines and the tail of the log of any job that fails, and a summary. Exit status: 0 only if every job passed.
set -euo pipefail

lanes=${1:?usage: molecule_lanes.sh LANES SCENARIO...}
shift
logdir=.cache/molecule
mkdir -p "$logdir"

weight() {
  case "$1" in
    migration) echo 53 ;; security) echo 47 ;; rebalance) echo 20 ;;
    dedicated) echo 12 ;; kubernetes) echo 23 ;; openshift) echo 9 ;;
    integration) echo 17 ;; *) echo 10 ;;
  esac
}

light() { [[ $1 == kubernetes || $1 == openshift || $1 == integration ]]; }

# longest first, each to the lane with the least work so far; the light ones to a lane of their own
declare -a load plan
for ((i = 0; i <= lanes; i++)); do load[i]=0; plan[i]=""; done
for scenario in $(for s in "$@"; do echo "$(weight "$s") $s"; done | sort -rn | cut -d' ' -f2); do
  if light "$scenario"; then
    # the integration tests first: the Kubernetes scenarios may wait for the API server build
    if [[ $scenario == integration ]]; then plan[lanes]="$scenario ${plan[lanes]}"; else plan[lanes]="${plan[lanes]} $scenario"; fi
    continue
  fi
  best=0
  for ((i = 1; i < lanes; i++)); do
    if ((load[i] < load[best])); then best=$i; fi
  done
  load[best]=$((load[best] + $(weight "$scenario")))
  plan[best]="${plan[best]} $scenario"
done

run_lane() {
  local lane=$1; shift
  local failed=0
  for scenario in "$@"; do
    local started=$SECONDS
    local cmd=(molecule test -s "$scenario")
    if [[ $scenario == integration ]]; then cmd=(python -m pytest -q --durations=10 tests/integration); fi
    echo "=== lane $lane: ${cmd[*]} (log: $logdir/$scenario.log)"
    if "${cmd[@]}" >"$logdir/$scenario.log" 2>&1; then
      echo "=== lane $lane: $scenario passed in $((SECONDS - started)) s" | tee "$logdir/$scenario.result"
    else
      echo "=== lane $lane: $scenario FAILED after $((SECONDS - started)) s" | tee "$logdir/$scenario.result"
      # molecule's clean-up after a failure pushes the failure itself out of the log's tail
      echo "=== $scenario: the log's failure lines (task failures, failed tests, errors):"
      grep -aE 'fatal:|FAILED|^E  |Error|Traceback|failed=[1-9]' "$logdir/$scenario.log" | grep -av 'failed=0' | tail -n 40 | sed "s/^/[$scenario] /" || true
      echo "=== $scenario: the last lines of its log:"
      tail -n 40 "$logdir/$scenario.log" | sed "s/^/[$scenario] /"
      failed=1
    fi
  done
  return $failed
}

pids=()
for ((i = 0; i <= lanes; i++)); do
  if [[ -n "${plan[i]}" ]]; then
    # shellcheck disable=SC2086 # the plan is a space-separated list of scenario names
    run_lane "$((i + 1))" ${plan[i]} &
    pids+=($!)
  fi
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
echo "=== molecule summary"
for scenario in "$@"; do cat "$logdir/$scenario.result" 2>/dev/null || echo "=== $scenario did not run"; done
exit $status
