#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_process_state
short_description: Whether a systemd service runs the files on disk, or started before some changed
version_added: 0.3.0
description:
  - Reads when the service's main process started (systemd) and compares it with the modification
    times of the files it reads. A file modified after the start is one the process does not run yet,
    so the service is RV(stale) and needs a restart.
  - The platform role decides restarts with this, not with whether its own run wrote a file, so a run
    killed after writing new files and before restarting every host is finished by the next run.
  - Changes nothing; runs on the host of the service.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  name:
    description: The systemd unit, without C(.service).
    type: str
    required: true
  paths:
    description:
      - Files, links and directories the process reads at start. A directory counts with the files it
        holds (one level); a symbolic link by its own modification time. Missing paths are ignored.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Does the broker run its current configuration?
  kafkaops.platform.kafka_process_state:
    name: kafka-broker
    paths:
      - /etc/kafka/kafka-broker
      - /etc/systemd/system/kafka-broker.service
      - /opt/kafka/current
  register: broker_state

- name: Restart it if not
  ansible.builtin.systemd_service:
    name: kafka-broker
    state: restarted
  when: broker_state.stale
"""

RETURN = r"""
running:
  description: Whether the service's main process runs.
  type: bool
  returned: always
started:
  description: When the main process started (seconds since the epoch), null when it does not run.
  type: float
  returned: always
stale:
  description: Whether it runs and a path was modified after it started.
  type: bool
  returned: always
newer:
  description: The paths modified after the start, each with C(path) and C(seconds_after_start).
  type: list
  elements: dict
  returned: always
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkaops.platform.plugins.module_utils import process_state as ps


def main():
    module = AnsibleModule(argument_spec=dict(name=dict(type="str", required=True),
                                              paths=dict(type="list", elements="path", default=[])),
                           supports_check_mode=True)
    systemctl = module.get_bin_path("systemctl", required=True)
    unit = module.params["name"]
    command = [systemctl, "show", unit + ".service"] + ["--property=%s" % p for p in ps.SHOW_PROPERTIES]
    rc, out, err = module.run_command(command)
    now_wall, now_monotonic = time.time(), time.monotonic()
    if rc != 0:
        module.fail_json(msg="systemctl show %s failed: %s" % (unit, err.strip() or out.strip()))
    start = ps.started_at(ps.parse_show(out), now_wall, now_monotonic)
    newer = []
    if start is not None:
        newer = ps.newer_than(start, ps.mtimes(module.params["paths"]))
    module.exit_json(changed=False, running=start is not None, started=start, stale=bool(newer), newer=newer)


if __name__ == "__main__":
    main()
