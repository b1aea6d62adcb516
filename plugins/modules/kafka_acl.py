#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_acl
short_description: Manage the ACLs of a Kafka cluster declaratively
version_added: 0.1.0
description:
  - Creates and deletes ACLs through the admin API so that the ACLs given in O(acls) are present
    or absent.
  - Each entry of O(acls) stands for one ACL per operation listed in its O(acls[].operations).
  - With O(purge_principals), the ACLs given as present become the exact set of those principals,
    and their other ACLs are deleted.
  - Only the ACLs of the principals named in O(acls) and O(purge_principals) are read and compared;
    the ACLs of other principals are never touched.
  - The cluster needs an authorizer (C(platform_security.authorizer.enabled)), and the module must
    connect as a super user or as a principal allowed to alter and describe the cluster.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  acls:
    description: The ACLs to manage.
    type: list
    elements: dict
    default: []
    suboptions:
      principal:
        description: Who the ACL applies to, as C(Type:name), for example C(User:alice) or C(User:*) for everyone.
        type: str
        required: true
      resource_type:
        description: The kind of resource the ACL protects.
        type: str
        required: true
        choices: [topic, group, cluster, transactional_id, delegation_token, user]
      resource_name:
        description:
          - Name of the resource, or its prefix with O(acls[].pattern_type=prefixed). C(*) is every resource
            of the type.
          - Required except for O(acls[].resource_type=cluster), whose only name is C(kafka-cluster).
        type: str
      pattern_type:
        description: Whether O(acls[].resource_name) is a full name or a prefix of names.
        type: str
        default: literal
        choices: [literal, prefixed]
      operations:
        description:
          - The operations the ACL allows or denies, one ACL each.
          - Each resource type knows some of them only. Topic has read, write, create, delete, alter, describe,
            describe_configs, alter_configs. Group has read, describe, delete. Cluster has create, cluster_action,
            describe_configs, alter_configs, idempotent_write, alter, describe. Transactional_id has describe and
            write. Delegation_token has describe. User has create_tokens and describe_tokens. C(all) is valid for every type.
        type: list
        elements: str
        required: true
        aliases: [operation]
        choices: [all, read, write, create, delete, alter, describe, cluster_action, describe_configs, alter_configs,
                  idempotent_write, create_tokens, describe_tokens]
      permission:
        description: Whether the ACL allows or denies the operations.
        type: str
        default: allow
        choices: [allow, deny]
      host:
        description: The client address the ACL applies to; C(*) is every host.
        type: str
        default: "*"
      state:
        description: Whether the ACLs of this entry must exist or not.
        type: str
        default: present
        choices: [present, absent]
  purge_principals:
    description:
      - Principals (C(Type:name)) whose ACLs must be exactly the entries of O(acls) with
        O(acls[].state=present); their other ACLs are deleted.
      - A principal listed here with no entry in O(acls) loses all its ACLs.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    details: Reads the ACLs and returns what would be created and deleted, changing nothing.
  diff_mode:
    support: full
    details: Shows the ACLs of the principals involved, one per line, before and after.
  platform:
    platforms: posix
notes:
  - ACLs are created before others are deleted, so that replacing an ALLOW ACL never leaves a
    moment without access.
seealso:
  - module: kafkaops.platform.kafka_user
"""

EXAMPLES = r"""
- name: Let the orders service produce to its topics and consume with its group
  kafkaops.platform.kafka_acl:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    acls:
      - principal: User:orders
        resource_type: topic
        resource_name: orders.
        pattern_type: prefixed
        operations: [write, read, describe]
      - principal: User:orders
        resource_type: group
        resource_name: orders-service
        operation: read
  delegate_to: localhost

- name: Make these the only ACLs of the billing user
  kafkaops.platform.kafka_acl:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    purge_principals: [User:billing]
    acls:
      - {principal: "User:billing", resource_type: topic, resource_name: invoices, operations: [read]}
      - {principal: "User:billing", resource_type: group, resource_name: billing, operations: [read]}
  delegate_to: localhost

- name: Remove a single ACL
  kafkaops.platform.kafka_acl:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    acls:
      - {principal: "User:legacy", resource_type: topic, resource_name: orders, operations: [write], state: absent}
  delegate_to: localhost
"""

RETURN = r"""
acls:
  description:
    - The ACLs of the principals involved after the run (what they would be, in check mode).
    - Each has principal, host, operation, permission, resource_type, resource_name and pattern_type.
  type: list
  elements: dict
  returned: always
  sample:
    - {principal: "User:orders", host: "*", operation: write, permission: allow, resource_type: topic,
       resource_name: orders., pattern_type: prefixed}
added:
  description: The ACLs created (to be created, in check mode), in the same form as RV(acls).
  type: list
  elements: dict
  returned: always
removed:
  description: The ACLs deleted (to be deleted, in check mode), in the same form as RV(acls).
  type: list
  elements: dict
  returned: always
"""

import re

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kafkaops.platform.plugins.module_utils.connection import KafkaModule
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import (
    ACL_OPERATIONS,
    ACL_PATTERN_TYPES,
    ACL_PERMISSIONS,
    ACL_RESOURCE_OPERATIONS,
    ACL_RESOURCE_TYPES,
    ADMIN_ARGUMENT_SPEC,
    CLUSTER_RESOURCE_NAME,
    HAS_KAFKA,
    KAFKA_IMPORT_ERROR,
    KafkaAdmin,
    KafkaAdminError,
    acl_sort_key,
    admin_arguments,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError

# Type:name, the name without control characters (a line break would end the principal in a log or a file)
_PRINCIPAL = re.compile(r"[A-Za-z][A-Za-z0-9_-]*:[^\x00-\x1f\x7f]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

ACL_ENTRY_SPEC = dict(
    principal=dict(type="str", required=True),
    resource_type=dict(type="str", required=True, choices=list(ACL_RESOURCE_TYPES)),
    resource_name=dict(type="str"),
    pattern_type=dict(type="str", default="literal", choices=list(ACL_PATTERN_TYPES)),
    operations=dict(type="list", elements="str", required=True, aliases=["operation"], choices=list(ACL_OPERATIONS)),
    permission=dict(type="str", default="allow", choices=list(ACL_PERMISSIONS)),
    host=dict(type="str", default="*"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)


class AclError(ValueError):
    """An ACL request the module cannot carry out; the message says what to fix."""


def check_principal(principal, where):
    if not isinstance(principal, str) or not _PRINCIPAL.fullmatch(principal):
        raise AclError("%s: %r is not a principal; write it as Type:name, for example User:alice" % (where, principal))


def expand(entries):
    """The validated entries as single ACLs: ``(present, absent)``, each a sorted list without repeats."""
    wanted = {"present": {}, "absent": {}}
    for index, entry in enumerate(entries):
        where = "acls[%d]" % index
        check_principal(entry["principal"], where + ".principal")
        resource_type = entry["resource_type"]
        name = entry.get("resource_name")
        if resource_type == "cluster":
            if name not in (None, CLUSTER_RESOURCE_NAME):
                raise AclError("%s.resource_name: the cluster resource is always named %s, not %r"
                               % (where, CLUSTER_RESOURCE_NAME, name))
            if entry["pattern_type"] != "literal":
                raise AclError("%s.pattern_type: the cluster resource takes pattern_type literal only" % where)
            name = CLUSTER_RESOURCE_NAME
        elif not name:
            raise AclError("%s.resource_name is required for resource_type %s (use * for every %s)"
                           % (where, resource_type, resource_type))
        if not entry.get("host"):
            raise AclError("%s.host must not be empty; use * for every host" % where)
        for key, value in (("resource_name", name), ("host", entry["host"])):
            if _CONTROL.search(value):
                raise AclError("%s.%s %r holds a control character (a line break, tab, ...); remove it" % (where, key, value))
        if not entry["operations"]:
            raise AclError("%s.operations must name at least one operation" % where)
        allowed = ACL_RESOURCE_OPERATIONS[resource_type]
        for operation in entry["operations"]:
            if operation not in allowed:
                raise AclError("%s.operations: %s is not an operation on a %s; valid: %s"
                               % (where, operation, resource_type, ", ".join(allowed)))
            acl = {"principal": entry["principal"], "host": entry["host"], "operation": operation,
                   "permission": entry["permission"], "resource_type": resource_type, "resource_name": name,
                   "pattern_type": entry["pattern_type"]}
            wanted[entry["state"]].setdefault(acl_sort_key(acl), (where, acl))
    both = sorted(set(wanted["present"]) & set(wanted["absent"]))
    if both:
        first = both[0]
        raise AclError("%s and %s ask for the same ACL to be both present and absent: %s"
                       % (wanted["present"][first][0], wanted["absent"][first][0], describe(wanted["present"][first][1])))
    return ([acl for _key, (_where, acl) in sorted(wanted["present"].items())],
            [acl for _key, (_where, acl) in sorted(wanted["absent"].items())])


def principals_of(present, absent, purge_principals):
    """Every principal whose ACLs the module reads, in a stable order."""
    return sorted({acl["principal"] for acl in present + absent} | set(purge_principals))


def plan(current, present, absent, purge_principals):
    """What to create and delete: ``(add, remove, after)``, sorted lists of ACL dicts.

    ``current`` holds the ACLs of the principals involved as the cluster has them."""
    have = {acl_sort_key(acl): acl for acl in current}
    keep = {acl_sort_key(acl) for acl in present}
    drop = {acl_sort_key(acl) for acl in absent}
    purge = set(purge_principals)
    add = [acl for acl in present if acl_sort_key(acl) not in have]
    remove = [acl for key, acl in sorted(have.items())
              if key in drop or (acl["principal"] in purge and key not in keep)]
    removed = {acl_sort_key(acl) for acl in remove}
    after = sorted([acl for key, acl in have.items() if key not in removed] + add, key=acl_sort_key)
    return add, remove, after


def describe(acl):
    """One line for an ACL, as the diff shows it."""
    return "%(principal)s %(permission)s %(operation)s on %(resource_type)s %(pattern_type)s %(resource_name)s " \
           "from host %(host)s" % acl


def diff_text(acls):
    return "".join(describe(acl) + "\n" for acl in acls)


def run(module, admin_factory=KafkaAdmin):
    params = module.params
    present, absent = expand(params["acls"])
    for index, principal in enumerate(params["purge_principals"]):
        check_principal(principal, "purge_principals[%d]" % index)
    principals = principals_of(present, absent, params["purge_principals"])
    result = dict(changed=False, acls=[], added=[], removed=[])
    if not principals:
        return result
    admin = admin_factory(params["bootstrap_servers"], **admin_arguments(params))
    with admin:
        current = []
        for principal in principals:
            current.extend(admin.acls(principal))
        current = sorted(current, key=acl_sort_key)
        add, remove, after = plan(current, present, absent, params["purge_principals"])
        if not module.check_mode:
            admin.create_acls(add)
            admin.delete_acls(remove)
    result.update(changed=bool(add or remove), acls=after, added=add, removed=remove)
    if module._diff:
        result["diff"] = {"before": diff_text(current), "after": diff_text(after),
                          "before_header": "ACLs of %s" % ", ".join(principals),
                          "after_header": "ACLs of %s" % ", ".join(principals)}
    return result


def main():
    spec = dict(ADMIN_ARGUMENT_SPEC)
    spec.update(
        acls=dict(type="list", elements="dict", default=[], options=ACL_ENTRY_SPEC),
        purge_principals=dict(type="list", elements="str", default=[]),
    )
    module = KafkaModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_KAFKA:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    try:
        result = run(module)
    except (AclError, KafkaAdminError, SecurityConfigError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
