"""Rotate the CA with rotate_ca.yml killed (SIGKILL, its whole process tree) right after its first
restart, then run it again to the end, as an operator whose job was cancelled would.

    rotate_killed.py SPEC.json

SPEC: project, inventory (molecule's sources), workdir, hosts (the test hosts), extra_vars (for
rotate_ca.yml), result_file (JSON written at the end: the start times after the kill and the second
run's seconds and changed counts).
"""
import json
import sys

from playbook_runs import Playbooks, kill_after_first_restart, start_times


def main(path):
    with open(path, encoding="utf-8") as handle:
        spec = json.load(handle)
    playbooks = Playbooks(spec["project"], spec["inventory"], spec["workdir"], "rotation")
    before = start_times(spec["hosts"])
    run = playbooks.run("rotate_ca.yml", spec["extra_vars"], background=True)
    kill_after_first_restart(run, spec["hosts"])
    after_kill = start_times(spec["hosts"])
    report = playbooks.run("rotate_ca.yml", spec["extra_vars"])
    with open(spec["result_file"], "w", encoding="utf-8") as handle:
        json.dump({"restarted_before_the_kill": sorted(h for h in spec["hosts"] if after_kill[h] != before[h]),
                   "second_run_seconds": report["seconds"],
                   "second_run_changed": {h: s["changed"] for h, s in report["stats"].items()}}, handle)


if __name__ == "__main__":
    main(sys.argv[1])
