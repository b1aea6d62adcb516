#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_feature
short_description: Read and finalize a KRaft cluster's metadata.version
version_added: 0.3.0
description:
  - Reads the finalized C(metadata.version) of a KRaft cluster and the range each broker supports
    (ApiVersions, asked of every registered broker, so RV(supported) says which release each one runs).
  - With O(metadata_version), raises the finalized level (UpdateFeatures, through the active controller,
    which also checks every controller supports it) - the last step of a rolling upgrade, once every
    process runs the new release. It refuses, before changing anything, while a broker does not support
    the level yet, and refuses to lower it.
  - With O(target_release), refuses a release that cannot run at the finalized level (a downgrade past it).
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  metadata_version:
    description:
      - The level to finalize - C(latest) (the highest every broker supports), a release (C(4.3)), a
        C(metadata.version) name (C(4.3-IV0)) or a level number. Omit it to read only.
      - A finalized level already at or above it is left alone (no change).
    type: str
  target_release:
    description: A Kafka release about to be installed (C(platform_kafka_version)); fail if it cannot run at the finalized level.
    type: str
attributes:
  check_mode:
    support: full
    details: Reports whether it would finalize (Kafka validates the level without applying it).
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Refuse a downgrade before anything changes
  kafkaops.platform.kafka_feature:
    bootstrap_servers: ["kafka1:9092"]
    target_release: "{{ platform_kafka_version }}"
  delegate_to: localhost

- name: Finalize the upgrade once every process runs the new release
  kafkaops.platform.kafka_feature:
    bootstrap_servers: ["kafka1:9092"]
    metadata_version: latest
  delegate_to: localhost
"""

RETURN = r"""
finalized:
  description: The finalized level after the module ran, and its name.
  type: dict
  returned: always
  sample: {level: 30, name: 4.3-IV0}
finalized_before:
  description: The finalized level before the module ran, and its name.
  type: dict
  returned: always
downgrade:
  description: Set (true) when the module failed because O(target_release) cannot run at the finalized level.
  type: bool
  returned: on that failure
supported:
  description: Each broker's supported range of C(metadata.version), by broker id, with the name of its highest level.
  type: dict
  returned: always
  sample: {"1": {min: 1, max: 30, max_name: 4.3-IV0}}
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kafkaops.platform.plugins.module_utils import features as ft
from ansible_collections.kafkaops.platform.plugins.module_utils.connection import KafkaModule
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import (
    ADMIN_ARGUMENT_SPEC,
    HAS_KAFKA,
    KAFKA_IMPORT_ERROR,
    KafkaAdmin,
    KafkaAdminError,
    admin_arguments,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError


def _level(level):
    return {"level": level, "name": ft.level_name(level)}


def main():
    spec = dict(ADMIN_ARGUMENT_SPEC)
    spec.update(metadata_version=dict(type="str"), target_release=dict(type="str"))
    module = KafkaModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_KAFKA:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    params = module.params
    changed = False
    try:
        with KafkaAdmin(params["bootstrap_servers"], **admin_arguments(params)) as admin:
            state = admin.features()
            finalized = state["finalized"].get(ft.FEATURE)
            supported = state["supported"].get(ft.FEATURE, {})
            result = dict(finalized_before=_level(finalized), finalized=_level(finalized),
                          supported={str(b): {"min": low, "max": high, "max_name": ft.level_name(high)}
                                     for b, (low, high) in sorted(supported.items())})
            if params["target_release"]:
                errors = ft.downgrade_errors(params["target_release"], finalized)
                if errors:
                    module.fail_json(msg=" ".join(errors), downgrade=True, **result)
            if params["metadata_version"]:
                wanted = ft.wanted_level(params["metadata_version"], supported)
                if finalized is None or wanted > finalized:
                    errors = ft.finalize_errors(wanted, finalized, supported)
                    if errors:
                        module.fail_json(msg=" ".join(errors), **result)
                    admin.update_feature(ft.FEATURE, wanted, validate_only=module.check_mode)
                    changed = True
                    result["finalized"] = _level(wanted)
    except (KafkaAdminError, SecurityConfigError, ft.FeatureError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
