#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_config
short_description: Set the dynamic configs of a Kafka broker or the cluster-wide broker default
version_added: 0.4.0
description:
  - Sets and deletes dynamic broker configs incrementally (IncrementalAlterConfigs) on one broker
    (O(broker)) or as the cluster-wide default every broker uses (O(broker) omitted), the way
    C(kafka-configs --entity-type brokers [--entity-name ID | --entity-default]) does.
  - Only the keys named change; O(purge=true) also deletes the dynamic configs not named.
  - Kafka never returns the value of a secret config (a password, a key), so a change to one cannot be
    seen; such keys are refused here - set them through the platform description (C(platform_security)).
  - Topic configs are O(kafkaops.platform.kafka_topic#module:configs).
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  broker:
    description: The broker id; omit it for the cluster-wide default.
    type: int
  configs:
    description:
      - Config keys and values (strings, numbers, booleans, lists); C(null) deletes a key, which falls back
        to the cluster-wide default, then to server.properties.
    type: dict
    default: {}
  purge:
    description: Delete the dynamic configs of the entity that O(configs) does not name.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Kafka validates the change without applying it (validate_only); the result says what would change.
  diff_mode:
    support: full
    details: The entity's dynamic configs before and after, one C(key=value) per line.
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Throttle log cleaning on every broker, without a restart
  kafkaops.platform.kafka_config:
    configs:
      log.cleaner.io.max.bytes.per.second: 10485760
  delegate_to: localhost

- name: More network threads on broker 3, and nothing else set dynamically there
  kafkaops.platform.kafka_config:
    broker: 3
    configs:
      num.network.threads: 6
    purge: true
  delegate_to: localhost
"""

RETURN = r"""
configs:
  description: The entity's dynamic configs after the module ran (what would be, in check mode).
  type: dict
  returned: always
set:
  description: The keys set (or that would be set), with their new values.
  type: dict
  returned: always
deleted:
  description: The keys deleted (or that would be deleted).
  type: list
  elements: str
  returned: always
"""

from ansible_collections.kafkaops.platform.plugins.module_utils import config_values as cv
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin, admin_arguments, run_admin_module
from ansible_collections.kafkaops.platform.plugins.module_utils.security import is_secret_property

SOURCES = {True: "DYNAMIC_BROKER_CONFIG", False: "DYNAMIC_DEFAULT_BROKER_CONFIG"}


def wanted_configs(configs):
    """The O(configs) option as ``{key: text or None}``; secret keys are refused."""
    wanted = cv.normalize_configs(configs, pattern=cv.BROKER_KEY, example="log.retention.ms or num.io.threads",
                                  what="broker")
    secret = [key for key in wanted if is_secret_property(key)]
    if secret:
        raise cv.ConfigValueError("configs: %s hold(s) a secret, whose value Kafka never returns, so a change could not "
                                  "be seen; set it through platform_security" % ", ".join(secret))
    return wanted


def plan(current, wanted, purge):
    """``(to set {key: text}, to delete [key])`` that turn ``current`` into what ``wanted`` and ``purge`` ask."""
    to_set = {key: value for key, value in wanted.items() if value is not None and current.get(key) != value}
    to_delete = sorted(key for key, value in wanted.items() if value is None and key in current)
    if purge:
        to_delete = sorted(set(to_delete) | {key for key in current if key not in wanted})
    return to_set, to_delete


def diff_text(configs):
    return "".join("%s=%s\n" % (key, configs[key]) for key in sorted(configs))


def run(module, admin_factory=None):
    params = module.params
    admin_factory = admin_factory or KafkaAdmin
    wanted = wanted_configs(params["configs"])
    name = "" if params["broker"] is None else str(params["broker"])
    source = SOURCES[params["broker"] is not None]
    with admin_factory(params["bootstrap_servers"], **admin_arguments(params)) as admin:
        current = admin.configs("broker", [name], sources=[source]).get(name, {})
        to_set, to_delete = plan(current, wanted, params["purge"])
        changes = dict(to_set, **{key: None for key in to_delete})
        if changes:
            admin.alter_configs("broker", {name: changes}, validate_only=module.check_mode)
    after = {key: value for key, value in current.items() if key not in to_delete}
    after.update(to_set)
    result = dict(changed=bool(changes), configs=after, set=to_set, deleted=to_delete)
    if module._diff:
        entity = "broker %s" % name if name else "cluster-wide broker default"
        result["diff"] = {"before": diff_text(current), "after": diff_text(after), "before_header": entity,
                          "after_header": entity}
    return result


def main():
    run_admin_module(dict(broker=dict(type="int"), configs=dict(type="dict", default={}),
                          purge=dict(type="bool", default=False)), run, errors=(cv.ConfigValueError,))


if __name__ == "__main__":
    main()
