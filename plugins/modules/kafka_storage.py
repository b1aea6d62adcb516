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
    directories that are not formatted yet with the storage tool's C(format) command, using the given
    cluster id. The tool is the main class that the distribution's C(bin/kafka-storage.sh) runs, or
    C(kafka.tools.StorageTool) when the distribution has no C(bin/kafka-storage.sh).
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
    description:
      - The Java executable, Java 9 or later (the tool's arguments reach it in an C(@argument) file).
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
      - They never appear on a command line, which any local user can read in C(/proc). The module
        writes the tool's arguments to a file that only its own user can read (mode C(0600), in a
        private temporary directory, removed when the tool ends) and runs C(java @file).
      - Every character but NUL reaches Kafka unchanged, spaces, quotes, backslashes, C(#), C(@),
        C($) and line breaks included. Characters beyond ASCII need a UTF-8 locale; when the
        module's locale is not UTF-8 it runs Java with the host's C(C.UTF-8) or C(en_US.UTF-8), and
        fails if the host has neither.
      - Kafka's parser splits the part in brackets on every comma and has no escape for it, so a
        name or password cannot contain a comma. Before anything runs, the module refuses an argument
        whose brackets do not split into the keys C(name), C(password), C(salt), C(iterations) and
        C(saltedpassword), each at most once, with C(name) and a password (naming the argument's index,
        never its text). C(=), C([) and C(]) need no escaping. A value that starts and ends with a
        double quote loses those two quotes, so the password C("pw") is written C(password=""pw"").
      - Checked only when a directory is to be formatted, in check mode too.
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
stdout:
  description:
    - What the storage tool printed, with the salts and keys of SCRAM credential records masked
      (Kafka 4.x prints the records it bootstraps).
  type: str
  returned: when directories were formatted
"""

import grp
import locale
import os
import pwd
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.locale import get_best_parsable_locale
from ansible.module_utils.common.text.converters import to_bytes

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


# The class bin/kafka-storage.sh runs in every Apache Kafka release with KRaft (3.x and 4.x alike), for a
# distribution that ships libs/ without bin/.
DEFAULT_STORAGE_TOOL = "kafka.tools.StorageTool"
_RUN_CLASS = re.compile(r"""kafka-run-class(?:\.sh)?["']?\s+["']?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+)""")

SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
SCRAM_KEYS = ("name", "password", "salt", "iterations", "saltedpassword")

# Inside double quotes the java launcher keeps spaces, tabs, '#', '@' and single quotes as they are, ends the
# argument at a raw line break, and reads a backslash as an escape (\n \r \t \f, any other character as itself).
_ARGFILE_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"})
_UTF8_LOCALES = ["C.UTF-8", "C.utf8", "en_US.UTF-8", "en_US.utf8"]


def render_argfile(arguments):
    """The text of a java launcher ``@file`` holding ``arguments``: one per line, each in double quotes, with
    backslashes, double quotes and control breaks escaped, so the launcher reads back exactly ``arguments``
    (JDK 9 and later; ``#`` starts a comment only outside quotes). Raises ValueError for a NUL character,
    which no program argument can hold."""
    lines = []
    for argument in arguments:
        if "\0" in argument:
            raise ValueError("an argument holds a NUL character, which no program argument can hold")
        lines.append('"%s"' % argument.translate(_ARGFILE_ESCAPES))
    return "\n".join(lines) + "\n"


def scram_argument_problem(argument):
    """Why Kafka would refuse or misread one ``--add-scram`` argument, or None.

    Follows Kafka's ScramParser (3.9 and 4.x): ``MECHANISM=[key=value,...]``; the part in brackets is split on
    every ``,`` with no escape, each part at its first ``=``; a value that starts and ends with ``"`` loses
    those quotes. A comma inside a password would make a part without ``=``, a key Kafka does not know or a key
    given twice (Kafka would then fail or silently keep the last one). The message never quotes the argument,
    which holds a password."""
    if "\0" in argument:
        return "holds a NUL character, which no program argument can hold"
    mechanism, equals, config = argument.strip().partition("=")
    if not equals or mechanism not in SCRAM_MECHANISMS:
        return "does not start with %s" % " or ".join(m + "=" for m in SCRAM_MECHANISMS)
    if not (config.startswith("[") and config.endswith("]")):
        return "has no [...] after %s=" % mechanism
    keys = []
    for number, part in enumerate(config[1:-1].split(","), 1):
        key, equals, _value = part.partition("=")
        if not equals or key not in SCRAM_KEYS:
            return ("has a part %d in brackets that is not %s: Kafka splits the brackets on every comma, with no "
                    "escape, so a SCRAM name or password cannot contain a comma"
                    % (number, ", ".join(known + "=..." for known in SCRAM_KEYS)))
        if key in keys:
            return "gives %s= twice (a comma in a name or password?)" % key
        keys.append(key)
    if "name" not in keys:
        return "has no name="
    if "password" not in keys and "saltedpassword" not in keys:
        return "has no password="
    return None


def storage_tool_class(kafka_home):
    """The main class that the distribution's ``bin/kafka-storage.sh`` runs (``kafka-run-class.sh <class>``), or
    :data:`DEFAULT_STORAGE_TOOL` when there is no such script."""
    script = os.path.join(kafka_home, "bin", "kafka-storage.sh")
    try:
        with open(script, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        return DEFAULT_STORAGE_TOOL
    except OSError as exc:
        raise StorageError("cannot read %s: %s" % (script, exc)) from exc
    for line in text.splitlines():
        match = None if line.lstrip().startswith("#") else _RUN_CLASS.search(line)
        if match:
            return match.group(1)
    raise StorageError("cannot find the storage tool's main class in %s: no line runs kafka-run-class.sh <class>; "
                       "point kafka_home at a Kafka distribution" % script)


def _locale_environment(module, arguments):
    """The environment Java needs to read ``arguments`` as they are: Java decodes its arguments with the locale's
    character set, so under a C locale every byte beyond ASCII would become U+FFFD (on a command line or in an
    argument file alike)."""
    if all(argument.isascii() for argument in arguments):
        return {}
    if locale.nl_langinfo(locale.CODESET).replace("-", "").lower() == "utf8":
        return {}
    chosen = get_best_parsable_locale(module, preferences=_UTF8_LOCALES)
    if chosen not in _UTF8_LOCALES:
        raise StorageError("the arguments of the storage tool (a SCRAM name or password, or a path) hold characters "
                           "beyond ASCII, but the locale is %s and the host has no UTF-8 locale (%s): Java would read "
                           "each such character as U+FFFD; install one, e.g. C.UTF-8"
                           % (locale.nl_langinfo(locale.CODESET), ", ".join(_UTF8_LOCALES)))
    return {"LC_ALL": chosen}


def run_with_argfile(module, launcher, arguments, environ_update):
    """Run ``launcher + ["@file"]`` where ``file`` holds ``arguments`` (the main class and its arguments), so that
    no process lists them: /proc/PID/cmdline shows ``@file`` only. The file is mode 0600 in a directory of
    mode 0700 that belongs to the user running the module (and the tool), removed when the tool ends."""
    environment = dict(environ_update)
    environment.update(_locale_environment(module, arguments))
    if os.environ.get("LD_LIBRARY_PATH"):
        # A LD_LIBRARY_PATH naming another JVM's libjvm.so makes the launcher exec itself again with the
        # arguments it read from the file, on its command line; empty, the variable is ignored.
        environment["LD_LIBRARY_PATH"] = ""
    try:
        content = to_bytes(render_argfile(arguments), errors="surrogate_or_strict")
    except ValueError as exc:
        raise StorageError("cannot pass the storage tool its arguments: %s" % exc) from exc
    workdir = tempfile.mkdtemp(prefix="kafka-storage-")
    try:
        path = os.path.join(workdir, "arguments")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        rc, out, err = module.run_command(launcher + ["@" + path], environ_update=environment)
        if rc != 0 and "main class @" in (err or "") + (out or ""):
            err = "%s\n%s does not read @argument files: run the storage tool with Java 9 or later (java option)" % (
                (err or out).strip(), launcher[0])
        return rc, out, err
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


_SCRAM_KEY_BYTES = re.compile(r"\b(salt|storedKey|serverKey)=\[[-\d, ]*\]")


def redact_scram_keys(text):
    """``text`` with the salts and keys of SCRAM credential records masked: the format command of Kafka 4.x
    prints its bootstrap records, and a salt with its keys is enough to guess a password offline."""
    return _SCRAM_KEY_BYTES.sub(r"\1=[redacted]", text or "")


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
    # a ZooKeeper-mode cluster's id, which a migration keeps, may start with '-'
    if not valid_cluster_id(cluster_id, allow_dash=True):
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

    main_class = None
    if unformatted:  # what formatting needs is checked in check mode too
        for index, credential in enumerate(params["scram_credentials"]):
            problem = scram_argument_problem(credential)
            if problem:
                module.fail_json(msg="scram_credentials[%d] %s" % (index, problem))
        main_class = storage_tool_class(params["kafka_home"])

    result = dict(changed=False, cluster_id=cluster_id, formatted=unformatted, directories=found)
    if not unformatted or module.check_mode:
        result["changed"] = bool(unformatted)
        module.exit_json(**result)

    # "--cluster-id=ID": an id that starts with '-' (from ZooKeeper) would be read as an option
    arguments = [main_class, "format", "--cluster-id=" + cluster_id,
                 "--config", params["config"], "--ignore-formatted"]
    if params["release_version"]:
        arguments += ["--release-version", params["release_version"]]
    for credential in params["scram_credentials"]:
        arguments += ["--add-scram", credential]
    # The passwords go in an argument file, never on a command line (any local user reads /proc/*/cmdline).
    rc, out, err = run_with_argfile(module, [params["java"], "-cp", os.path.join(params["kafka_home"], "libs", "*")],
                                    arguments, environ_update={"KAFKA_HEAP_OPTS": "-Xmx256m"})
    if rc != 0:
        module.fail_json(msg="kafka-storage format failed (exit %d): %s" % (rc, redact_scram_keys(err or out).strip()[-2000:]),
                         rc=rc)
    missing = [d for d in unformatted if _read(os.path.join(d, "meta.properties")) is None]
    if missing:
        module.fail_json(msg="kafka-storage format finished but left no meta.properties in %s" % ", ".join(missing))
    if params["owner"] or params["group"]:
        for directory in unformatted:
            _chown_tree(directory, uid, gid)
    result["changed"] = True
    result["stdout"] = redact_scram_keys(out)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
