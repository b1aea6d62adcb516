#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_schema
short_description: Register schemas and set compatibility and mode in Confluent Schema Registry
version_added: 0.2.0
description:
  - Registers an AVRO, JSON or PROTOBUF schema (with references) under a subject, unless the subject
    already holds it; sets the compatibility level and the mode of a subject or, without
    O(subject), the registry's global ones; soft-deletes a subject, or removes it for good.
  - A new schema is checked with the registry's compatibility endpoint first. An incompatible one
    fails the task with the registry's reasons and registers nothing; in check mode the same check
    says whether the schema would be accepted.
  - Order within one task, compatibility, then schema, then mode, so that relaxing the level and
    registering a schema the old level refuses works in one task.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.rest
  - ansible.builtin.action_common_attributes
options:
  subject:
    description:
      - The subject, for example C(orders-value). Without it, O(compatibility) and O(mode) are the
        registry's global settings.
    type: str
  state:
    description: V(present) registers and sets; V(absent) soft-deletes every version of O(subject).
    type: str
    choices: [present, absent]
    default: present
  schema:
    description:
      - The schema. For AVRO and JSON, its text or the schema itself as a dict (serialized
        compactly); for PROTOBUF, the C(.proto) text.
    type: raw
  schema_type:
    description: The schema's format.
    type: str
    choices: [AVRO, JSON, PROTOBUF]
    default: AVRO
  references:
    description: Schemas this one imports, each with C(name) (as the schema refers to it), C(subject) and C(version) (-1 for the latest).
    type: list
    elements: dict
  normalize:
    description: Let the registry normalize the schema before looking it up and registering it.
    type: bool
    default: false
  compatibility:
    description: The compatibility level to set.
    type: str
    choices: [BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE]
  mode:
    description: The mode to set (V(READONLY) freezes the subject or the registry).
    type: str
    choices: [READWRITE, READONLY, READONLY_OVERRIDE, IMPORT]
  permanent:
    description:
      - With O(state=absent), also remove the soft-deleted versions for good (the registry then
        forgets the schema ids of this subject). Also removes a subject that was soft-deleted before.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reads, and checks a new schema's compatibility; changes nothing.
  diff_mode:
    support: full
    details: Levels and mode as lines; a new schema against the latest registered one, JSON schemas indented.
  platform:
    platforms: posix
notes:
  - Tested against a fake that follows the registry's documented REST API; the live scenario runs
    when a Confluent archive is supplied (see the README).
"""

EXAMPLES = r"""
- name: Orders are AVRO, each new version readable by the consumers of the last
  kafkaops.platform.kafka_schema:
    url: https://registry1:8081
    ca_path: /etc/kafka/tls/ca.crt
    subject: orders-value
    compatibility: BACKWARD
    schema:
      type: record
      name: Order
      namespace: shop
      fields:
        - {name: id, type: long}
        - {name: note, type: string, default: ""}
  delegate_to: localhost

- name: A PROTOBUF schema that imports another subject's schema
  kafkaops.platform.kafka_schema:
    url: https://registry1:8081
    subject: payments-value
    schema_type: PROTOBUF
    schema: "{{ lookup('file', 'payment.proto') }}"
    references:
      - {name: money.proto, subject: money, version: 1}

- name: Remove a subject for good
  kafkaops.platform.kafka_schema:
    url: https://registry1:8081
    subject: scratch-value
    state: absent
    permanent: true
"""

RETURN = r"""
subject:
  description: The subject (null for global settings).
  returned: always
  type: str
actions:
  description: What was done (or, in check mode, would be), in order.
  returned: always
  type: list
  elements: str
  sample: [compatibility FULL, registered]
id:
  description: The schema's id (unknown in check mode for a new schema).
  returned: with O(schema)
  type: int
version:
  description: The subject's version holding the schema.
  returned: with O(schema)
  type: int
compatible:
  description: Whether the registry accepts the schema under the subject's compatibility level.
  returned: with O(schema)
  type: bool
messages:
  description: The registry's reasons when it does not.
  returned: with O(schema)
  type: list
  elements: str
compatibility:
  description: The subject's own (or the global) compatibility level after the task; null when the subject has none of its own.
  returned: unless O(state=absent)
  type: str
mode:
  description: The subject's own (or the global) mode after the task.
  returned: unless O(state=absent)
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkaops.platform.plugins.module_utils._schema_runner import SchemaError, run
from ansible_collections.kafkaops.platform.plugins.module_utils.rest import REST_ARGUMENT_SPEC, run_module
from ansible_collections.kafkaops.platform.plugins.module_utils.schema_registry import (
    COMPATIBILITY_LEVELS,
    MODES,
    SCHEMA_TYPES,
    SchemaRegistryClient,
)


def argument_spec() -> dict:
    spec = dict(REST_ARGUMENT_SPEC)
    spec.update(
        subject=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        schema=dict(type="raw"),
        schema_type=dict(type="str", default="AVRO", choices=list(SCHEMA_TYPES)),
        references=dict(type="list", elements="dict"),
        normalize=dict(type="bool", default=False),
        compatibility=dict(type="str", choices=list(COMPATIBILITY_LEVELS)),
        mode=dict(type="str", choices=list(MODES)),
        permanent=dict(type="bool", default=False),
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("state", "absent", ("subject",))],
                           required_by={"schema": ("subject",), "references": ("schema",)})
    client = SchemaRegistryClient(**SchemaRegistryClient.rest_options(module.params))
    run_module(module, lambda: run(module, client), SchemaError)


if __name__ == "__main__":
    main()
