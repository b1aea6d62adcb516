#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_user
short_description: Manage the SCRAM credentials of a Kafka user
version_added: 0.1.0
description:
  - Creates, updates and deletes the SCRAM-SHA-256 and SCRAM-SHA-512 credentials of one user
    through the admin API (KIP-554). The password is salted and hashed on the host that runs the
    module; only the salted hash reaches the cluster.
  - Kafka keeps no password, only a salted hash, and reports nothing but the mechanisms and
    iteration counts of a user. So the module cannot tell whether a password is the one given.
    With the default O(update_password=on_create) it sets the password only on credentials it
    creates (or when O(iterations) differs from the cluster's, which needs a new hash anyway), and a
    second run reports no change. With O(update_password=always) it writes the credentials on
    every run and always reports a change.
  - A user's ACLs are managed by M(kafkaops.platform.kafka_acl). A SCRAM user exists as soon as it
    has a credential; there is nothing else to create.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  name:
    description: The user name (the principal is C(User:<name>)).
    type: str
    required: true
    aliases: [user]
  state:
    description:
      - V(present) makes sure the user has a credential for each of O(mechanisms); credentials of
        other mechanisms are left alone.
      - V(absent) deletes the credentials of O(mechanisms), or all of the user's credentials when
        O(mechanisms) is not given.
    type: str
    default: present
    choices: [present, absent]
  password:
    description:
      - The password. Required with O(state=present).
      - Never logged nor returned.
    type: str
  mechanisms:
    description:
      - The SCRAM mechanisms, C(SCRAM-SHA-256) and/or C(SCRAM-SHA-512) (case does not matter).
      - Defaults to C(SCRAM-SHA-512) with O(state=present) and to every mechanism of the user with
        O(state=absent).
    type: list
    elements: str
  iterations:
    description:
      - The PBKDF2 iteration count of the credentials, between 4096 and 16384.
      - An existing credential with another count is rewritten with O(password).
    type: int
    default: 4096
  update_password:
    description:
      - V(on_create) sets the password only on credentials that do not exist yet (or need a new
        hash because O(iterations) changed); V(always) sets it on every run, and the task then
        always reports a change, since Kafka cannot say whether the password was already that one.
    type: str
    default: on_create
    choices: [always, on_create]
attributes:
  check_mode:
    support: full
    details: Reads the user's credentials and returns what would change, changing nothing.
  diff_mode:
    support: full
    details: Shows the user's mechanisms and iteration counts before and after; never a password.
  platform:
    platforms: posix
notes:
  - Users created at storage format time (C(platform_security.credentials)) are SCRAM users like any other;
    this module can rotate their passwords, but the brokers read their own login from
    C(server.properties), so rotate C(credentials.broker) through the roles, not here.
seealso:
  - module: kafkaops.platform.kafka_acl
"""

EXAMPLES = r"""
- name: Create the orders service user
  kafkaops.platform.kafka_user:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    name: orders
    password: "{{ vault_orders_password }}"
  delegate_to: localhost

- name: Rotate its password (reports a change on every run)
  kafkaops.platform.kafka_user:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    name: orders
    password: "{{ vault_orders_new_password }}"
    mechanisms: [SCRAM-SHA-256, SCRAM-SHA-512]
    iterations: 8192
    update_password: always
  delegate_to: localhost

- name: Remove a user
  kafkaops.platform.kafka_user:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    name: legacy
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
user:
  description: The user name.
  type: str
  returned: always
credentials:
  description: The user's credentials after the run (what they would be, in check mode); never a password.
  type: list
  elements: dict
  returned: always
  sample: [{mechanism: SCRAM-SHA-512, iterations: 4096}]
created:
  description: Mechanisms whose credential was created (would be, in check mode).
  type: list
  elements: str
  returned: always
updated:
  description: Mechanisms whose credential was rewritten (would be, in check mode).
  type: list
  elements: str
  returned: always
deleted:
  description: Mechanisms whose credential was deleted (would be, in check mode).
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kafkaops.platform.plugins.module_utils.connection import KafkaModule
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import (
    ADMIN_ARGUMENT_SPEC,
    HAS_KAFKA,
    KAFKA_IMPORT_ERROR,
    SCRAM_MECHANISMS,
    KafkaAdmin,
    KafkaAdminError,
    admin_arguments,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError

MIN_ITERATIONS = 4096
MAX_ITERATIONS = 16384
DEFAULT_MECHANISM = "SCRAM-SHA-512"


class UserError(ValueError):
    """A request the module cannot carry out; the message says what to fix."""


def mechanisms_of(values):
    """The mechanisms named in ``values``, upper-case and in a stable order, or None when not given."""
    if values is None:
        return None
    if not values:
        raise UserError("mechanisms must name at least one of %s (or be left out)" % ", ".join(SCRAM_MECHANISMS))
    result = []
    for value in values:
        name = str(value).strip().upper().replace("_", "-")
        if name not in SCRAM_MECHANISMS:
            raise UserError("mechanisms: %r is not a SCRAM mechanism; use %s" % (value, " or ".join(SCRAM_MECHANISMS)))
        if name not in result:
            result.append(name)
    return sorted(result)


def validate(params):
    if not params["name"] or params["name"] != params["name"].strip() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in params["name"]):
        raise UserError("name must be a user name without leading or trailing spaces or control characters")
    if params["state"] == "present":
        if not params["password"]:
            raise UserError("password is required (and must not be empty) with state=present")
        if not MIN_ITERATIONS <= params["iterations"] <= MAX_ITERATIONS:
            raise UserError("iterations must be between %d and %d (Kafka refuses others), got %d"
                            % (MIN_ITERATIONS, MAX_ITERATIONS, params["iterations"]))


def plan(current, state, mechanisms, iterations, update_password):
    """What to change: ``{"create": [...], "update": [...], "delete": [...]}`` (mechanism names).

    ``current``: the user's credentials on the cluster, ``[{"mechanism", "iterations"}]``."""
    have = {c["mechanism"]: c["iterations"] for c in current}
    changes = {"create": [], "update": [], "delete": []}
    if state == "absent":
        targets = have if mechanisms is None else mechanisms
        changes["delete"] = sorted(m for m in targets if m in have)
        return changes
    for mechanism in mechanisms or [DEFAULT_MECHANISM]:
        if mechanism not in have:
            changes["create"].append(mechanism)
        elif update_password == "always" or have[mechanism] != iterations:
            changes["update"].append(mechanism)
    return changes


def after_state(current, changes, iterations):
    have = {c["mechanism"]: c["iterations"] for c in current}
    for mechanism in changes["delete"]:
        have.pop(mechanism)
    for mechanism in changes["create"] + changes["update"]:
        have[mechanism] = iterations
    return [{"mechanism": m, "iterations": have[m]} for m in sorted(have)]


def diff_text(credentials, rewritten=()):
    lines = []
    for credential in credentials:
        note = ", new password" if credential["mechanism"] in rewritten else ""
        lines.append("%s: %d iterations%s\n" % (credential["mechanism"], credential["iterations"], note))
    return "".join(lines)


def run(module, admin_factory=KafkaAdmin):
    params = module.params
    validate(params)
    mechanisms = mechanisms_of(params["mechanisms"])
    name = params["name"]
    admin = admin_factory(params["bootstrap_servers"], **admin_arguments(params))
    with admin:
        current = admin.scram_users().get(name, [])
        changes = plan(current, params["state"], mechanisms, params["iterations"], params["update_password"])
        upserts = [{"user": name, "mechanism": m, "password": params["password"], "iterations": params["iterations"]}
                   for m in changes["create"] + changes["update"]]
        deletions = [{"user": name, "mechanism": m} for m in changes["delete"]]
        if (upserts or deletions) and not module.check_mode:
            admin.alter_scram_credentials(upsertions=upserts, deletions=deletions)
    after = after_state(current, changes, params["iterations"])
    result = dict(changed=bool(upserts or deletions), user=name, credentials=after,
                  created=changes["create"], updated=changes["update"], deleted=changes["delete"])
    if module._diff:
        result["diff"] = {"before": diff_text(current), "after": diff_text(after, changes["create"] + changes["update"]),
                          "before_header": "SCRAM credentials of %s" % name,
                          "after_header": "SCRAM credentials of %s" % name}
    return result


def main():
    spec = dict(ADMIN_ARGUMENT_SPEC)
    spec.update(
        name=dict(type="str", required=True, aliases=["user"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        password=dict(type="str", no_log=True),
        mechanisms=dict(type="list", elements="str"),
        iterations=dict(type="int", default=MIN_ITERATIONS),
        update_password=dict(type="str", default="on_create", choices=["always", "on_create"], no_log=False),
    )
    module = KafkaModule(argument_spec=spec, supports_check_mode=True,
                         required_if=[("state", "present", ["password"])])
    if not HAS_KAFKA:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    try:
        result = run(module)
    except (UserError, KafkaAdminError, SecurityConfigError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
