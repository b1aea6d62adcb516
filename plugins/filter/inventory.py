# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Filters that check the inventory's own text before anything is rendered from it
(plugins/module_utils/inventory_checks.py); documentation in the sidecar ``<filter name>.yml`` files."""
from __future__ import annotations

import functools
import glob
import os

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.kafkaops.platform.plugins.module_utils import inventory_checks as checks

ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")


@functools.lru_cache(maxsize=1)
def role_variable_names():
    """The variables the roles document for their users (the options of each role's main entry point in
    ``meta/argument_specs.yml``): what an inventory sets, unlike the facts the roles register on the way."""
    names = set()
    for path in glob.glob(os.path.join(ROLES, "*", "meta", "argument_specs.yml")):
        with open(path, encoding="utf-8") as handle:
            specs = yaml.safe_load(handle) or {}
        names.update((specs.get("argument_specs", {}).get("main") or {}).get("options") or {})
    if not names:
        raise AnsibleFilterError("no role argument specs found under %s" % ROLES)
    return frozenset(names)


def _role_variables(name, hosts, hostvars):
    """host -> the role variables (documented in the roles' argument specs) that host has."""
    if hostvars is None:
        raise AnsibleFilterError("%s needs hostvars=hostvars" % name)
    if isinstance(hosts, str) or not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("%s: expected a list of host names, got %s" % (name, type(hosts).__name__))
    names = role_variable_names()
    result = {}
    for host in hosts:
        variables = hostvars[host]
        result[host] = {key: variables[key] for key in names if key in variables}
    return result


def kafka_inventory_text_errors(hosts, hostvars=None):
    """Every control character in the role variables of ``hosts``, as messages naming host, variable and key."""
    try:
        return checks.text_errors(_role_variables("kafka_inventory_text_errors", hosts, hostvars))
    except checks.InventoryError as exc:
        raise AnsibleFilterError("kafka_inventory_text_errors: %s" % exc) from exc


def kafka_secret_properties(hosts, hostvars=None, marked=None):
    """The property overrides of ``hosts`` that hold secrets, as ``host: variable['key']``."""
    try:
        return checks.secret_properties(_role_variables("kafka_secret_properties", hosts, hostvars), marked)
    except checks.InventoryError as exc:
        raise AnsibleFilterError("kafka_secret_properties: %s" % exc) from exc


class FilterModule:
    """Inventory checks of kafkaops.platform."""

    def filters(self):
        return {
            "kafka_inventory_text_errors": kafka_inventory_text_errors,
            "kafka_secret_properties": kafka_secret_properties,
        }
