#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_storage
short_description: Format the KRaft storage of a Kafka process exactly once
version_added: 0.1.0
description:
  - Checks the C(meta.properties) of every log directory of a Kafka process and formats the
    directories that are not formatted yet with C(kafka.tools.StorageTool format), using the given
    cluster id.
  - Never formats a directory twice. Fails, changing nothing, when a directory already belongs to
    another cluster, since formatting it again would throw away that cluster's data.
  - Works with the Apache Kafka release tarball or any distribution with a C(libs/) folder.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  cluster_id:
    description: The cluster id (22 characters of URL-safe base64).
    type: str
    required: true
  config:
    description: Path of the process's C(server.properties) on the host.
    type: path
    required: true
  kafka_home:
    description: Kafka installation directory holding C(libs/).
    type: path
    required: true
  log_dirs:
    description:
      - The process's data directories (C(log.dirs)); C(metadata.log.dir) is read from O(config)
        and checked as well when set.
    type: list
    elements: path
    required: true
  java:
    description: The Java executable.
    type: path
    default: /usr/bin/java
  owner:
    description: User that must own the formatted directories.
    type: str
  group:
    description: Group that must own the formatted directories.
    type: str
  scram_credentials:
    description:
      - SCRAM credentials to create at format time, each as C(kafka-storage format --add-scram)
        takes them, for example C(SCRAM-SHA-512=[name=admin,password=secret]).
    type: list
    elements: str
    default: []
  release_version:
    description: Metadata version to format with (C(--release-version)); Kafka's default when unset.
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The module runs on the Kafka host.
"""

EXAMPLES = r"""
- name: Format the broker's storage
  kafkaops.platform.kafka_storage:
    cluster_id: "{{ platform_cluster_id_effective }}"
    config: /etc/kafka/kafka-broker/server.properties
    kafka_home: /opt/kafka/current
    log_dirs: [/var/lib/kafka/kafka-broker]
    owner: kafka
    group: kafka
"""

RETURN = r"""
cluster_id:
  description: The cluster id the directories are formatted with.
  type: str
  returned: always
formatted:
  description: The directories formatted by this run (would be formatted, in check mode).
  type: list
  elements: str
  returned: always
directories:
  description: Every directory checked, with the cluster id and node id found in it before the run.
  type: dict
  returned: always
"""

import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkaops.platform.plugins.module_utils.properties import (
    parse_java_properties,
    valid_cluster_id,
)


def _read(path):
    try:
        with open(path, encoding="latin-1") as handle:
            return parse_java_properties(handle.read())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError("cannot read %s: %s" % (path, exc)) from exc


class StorageError(Exception):
    """A storage state the module cannot work with."""


def _chown_tree(path, uid, gid):
    for base, _subdirs, files in os.walk(path):
        os.chown(base, uid, gid)
        for name in files:
            os.chown(os.path.join(base, name), uid, gid)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            cluster_id=dict(type="str", required=True),
            config=dict(type="path", required=True),
            kafka_home=dict(type="path", required=True),
            log_dirs=dict(type="list", elements="path", required=True),
            java=dict(type="path", default="/usr/bin/java"),
            owner=dict(type="str"),
            group=dict(type="str"),
            scram_credentials=dict(type="list", elements="str", default=[], no_log=True),
            release_version=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    try:
        ensure_formatted(module)
    except StorageError as exc:
        module.fail_json(msg=str(exc))


def ensure_formatted(module):
    """Check every directory and format the ones that need it (exits through the module)."""
    params = module.params
    cluster_id = params["cluster_id"]
    if not valid_cluster_id(cluster_id):
        module.fail_json(msg="cluster_id %r is not a KRaft cluster id (22 characters of URL-safe base64)" % cluster_id)
    config = _read(params["config"])
    if config is None:
        module.fail_json(msg="configuration %s does not exist; write it before formatting" % params["config"])

    directories = list(dict.fromkeys(params["log_dirs"] + ([config["metadata.log.dir"]] if config.get("metadata.log.dir") else [])))
    found = {}
    unformatted = []
    for directory in directories:
        meta = _read(os.path.join(directory, "meta.properties"))
        if meta is None:
            unformatted.append(directory)
            found[directory] = None
            continue
        found[directory] = {"cluster_id": meta.get("cluster.id"), "node_id": meta.get("node.id")}
        if meta.get("cluster.id") != cluster_id:
            module.fail_json(
                msg="%s is formatted for cluster %s, not %s: refusing to format it again (that would delete "
                    "its data). Set platform_cluster_id to %s, or empty the directory if the data is not wanted."
                    % (directory, meta.get("cluster.id"), cluster_id, meta.get("cluster.id")),
                directories=found)
        if config.get("node.id") and meta.get("node.id") and meta.get("node.id") != config.get("node.id"):
            module.fail_json(
                msg="%s holds node %s but the configuration says node.id=%s: node ids cannot change; put the "
                    "old id back in the inventory" % (directory, meta.get("node.id"), config.get("node.id")),
                directories=found)

    configured = [d for d in (config.get("log.dirs") or config.get("log.dir") or "").split(",") if d]
    extra = [d for d in params["log_dirs"] if configured and d not in configured]
    if extra:
        module.fail_json(msg="log_dirs %s are not in log.dirs of %s (%s); pass the directories the configuration names"
                         % (", ".join(extra), params["config"], ",".join(configured)))
    try:
        uid = pwd.getpwnam(params["owner"]).pw_uid if params["owner"] else -1
        gid = grp.getgrnam(params["group"]).gr_gid if params["group"] else -1
    except KeyError as exc:
        module.fail_json(msg="owner/group does not exist on the host: %s" % exc)

    result = dict(changed=False, cluster_id=cluster_id, formatted=unformatted, directories=found)
    if not unformatted or module.check_mode:
        result["changed"] = bool(unformatted)
        module.exit_json(**result)

    cmd = [params["java"], "-cp", os.path.join(params["kafka_home"], "libs", "*"), "kafka.tools.StorageTool",
           "format", "--cluster-id", cluster_id, "--config", params["config"], "--ignore-formatted"]
    if params["release_version"]:
        cmd += ["--release-version", params["release_version"]]
    for credential in params["scram_credentials"]:
        cmd += ["--add-scram", credential]
    rc, out, err = module.run_command(cmd, environ_update={"KAFKA_HEAP_OPTS": "-Xmx256m"})
    if rc != 0:
        module.fail_json(msg="kafka-storage format failed (exit %d): %s" % (rc, (err or out).strip()[-2000:]),
                         rc=rc)
    missing = [d for d in unformatted if _read(os.path.join(d, "meta.properties")) is None]
    if missing:
        module.fail_json(msg="kafka-storage format finished but left no meta.properties in %s" % ", ".join(missing))
    if params["owner"] or params["group"]:
        for directory in unformatted:
            _chown_tree(directory, uid, gid)
    result["changed"] = True
    result["stdout"] = out
    module.exit_json(**result)


if __name__ == "__main__":
    main()
