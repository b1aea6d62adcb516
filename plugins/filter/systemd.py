# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Filters that quote values for systemd unit files (plugins/module_utils/systemd.py);
documentation in the sidecar ``<filter name>.yml`` files."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kafkaops.platform.plugins.module_utils import systemd


def kafka_systemd_environment(name, value):
    """``"NAME=value"`` for an ``Environment=`` line of a unit."""
    try:
        return systemd.environment_assignment(name, value)
    except systemd.SystemdError as exc:
        raise AnsibleFilterError("kafka_systemd_environment: %s" % exc) from exc


def kafka_systemd_command(arguments):
    """An ``ExecStart=`` command line from a list of arguments."""
    try:
        return systemd.command_line(arguments)
    except systemd.SystemdError as exc:
        raise AnsibleFilterError("kafka_systemd_command: %s" % exc) from exc


class FilterModule:
    """systemd quoting of kafkaops.platform."""

    def filters(self):
        return {
            "kafka_systemd_environment": kafka_systemd_environment,
            "kafka_systemd_command": kafka_systemd_command,
        }
