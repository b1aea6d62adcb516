#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_quota
short_description: Set the client quotas of a Kafka user, client id or IP address
version_added: 0.4.0
description:
  - Sets and removes the client quotas of one entity (AlterClientQuotas), the way
    C(kafka-configs --alter --entity-type users|clients|ips) does - a user, a client id, a user and
    client id together, or an IP address, each possibly the default entity of its type.
  - Only the quota keys named change; O(purge=true) also removes the quotas not named, and
    O(state=absent) removes every quota of the entity.
  - Quotas apply on every broker at once; no restart is needed.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  user:
    description:
      - The user principal's name (for C(User:alice), C(alice)), or C(<default>) for the default user
        quota every user without one of its own gets.
      - With O(client_id), the quota of that client id used by that user.
    type: str
  client_id:
    description: The client id, or C(<default>) for the default client id.
    type: str
  ip:
    description:
      - An IP address, or C(<default>) for every address without a quota of its own. Stands alone;
        its one quota is C(connection_creation_rate).
    type: str
  quotas:
    description:
      - Quota keys and values. Users and client ids take C(producer_byte_rate) and
        C(consumer_byte_rate) (bytes per second per broker, whole numbers), C(request_percentage)
        (percent of one network and I/O thread) and C(controller_mutation_rate) (partitions created or
        deleted per second); IP addresses take C(connection_creation_rate) (a whole number).
      - C(null) removes a key.
    type: dict
    default: {}
  purge:
    description: Remove the quotas of the entity that O(quotas) does not name.
    type: bool
    default: false
  state:
    description: C(absent) removes every quota of the entity.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Kafka validates the change without applying it (validate_only); the result says what would change.
  diff_mode:
    support: full
    details: The entity's quotas before and after, one C(key=value) per line.
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Cap what the reporting user may produce and fetch, on each broker
  kafkaops.platform.kafka_quota:
    user: reporting
    quotas:
      producer_byte_rate: 1048576
      consumer_byte_rate: 4194304
  delegate_to: localhost

- name: A default for every client id that has no quota of its own
  kafkaops.platform.kafka_quota:
    client_id: <default>
    quotas:
      request_percentage: 50
  delegate_to: localhost

- name: Limit how fast one address may open connections
  kafkaops.platform.kafka_quota:
    ip: 192.0.2.10
    quotas:
      connection_creation_rate: 20
  delegate_to: localhost

- name: Remove every quota of a user that left
  kafkaops.platform.kafka_quota:
    user: former-team
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
entity:
  description: The entity, as Kafka's entity types and names (C(null) for a default entity).
  type: dict
  returned: always
  sample: {"user": "reporting"}
quotas:
  description: The entity's quotas after the module ran (what they would be, in check mode).
  type: dict
  returned: always
  sample: {"producer_byte_rate": 1048576, "consumer_byte_rate": 4194304}
set:
  description: The quota keys set (or that would be set), with their new values.
  type: dict
  returned: always
removed:
  description: The quota keys removed (or that would be removed).
  type: list
  elements: str
  returned: always
"""

from ansible_collections.kafkaops.platform.plugins.module_utils import quotas as q
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import (
    KafkaAdmin,
    admin_arguments,
    quota_entity_text,
    run_admin_module,
)


def run(module, admin_factory=None):
    params = module.params
    admin_factory = admin_factory or KafkaAdmin
    entity = q.quota_entity(params["user"], params["client_id"], params["ip"])
    wanted = q.quota_values(entity, params["quotas"])
    with admin_factory(params["bootstrap_servers"], **admin_arguments(params)) as admin:
        current = admin.client_quotas(entity)
        to_set, to_remove = q.plan(current, wanted, params["state"], params["purge"])
        changes = dict(to_set, **{key: None for key in to_remove})
        if changes:
            admin.alter_client_quotas(entity, changes, validate_only=module.check_mode)
    after = {key: value for key, value in current.items() if key not in to_remove}
    after.update(to_set)
    result = dict(changed=bool(changes), entity=entity, quotas=q.readable(after), set=q.readable(to_set),
                  removed=to_remove)
    if module._diff:
        header = quota_entity_text(entity)
        result["diff"] = {"before": q.diff_text(current), "after": q.diff_text(after), "before_header": header,
                          "after_header": header}
    return result


def main():
    run_admin_module(dict(user=dict(type="str"), client_id=dict(type="str"), ip=dict(type="str"),
                          quotas=dict(type="dict", default={}), purge=dict(type="bool", default=False),
                          state=dict(type="str", choices=["present", "absent"], default="present")),
                     run, errors=(q.QuotaError,), required_one_of=[("user", "client_id", "ip")],
                     mutually_exclusive=[("ip", "user"), ("ip", "client_id")])


if __name__ == "__main__":
    main()
