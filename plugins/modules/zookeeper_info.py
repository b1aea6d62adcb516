#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: zookeeper_info
short_description: Ask a ZooKeeper server how it is doing with a four-letter word
version_added: 0.2.0
description:
  - Sends a four-letter word (C(srvr), C(mntr), C(ruok), ...) to a ZooKeeper server and returns its
    answer as a dict, with the server's C(mode) (C(leader), C(follower), C(standalone), C(observer)).
  - With O(wait_serving), polls until the server serves requests as a member of a quorum; the
    zookeeper role gates each step of its rolling restart on this.
  - The word must be in the server's C(4lw.commands.whitelist).
  - A server that does not answer is reported with O(wait_serving=false) as not serving (C(mode) null),
    not as a failure.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  host:
    description: Address of the ZooKeeper server.
    type: str
    default: 127.0.0.1
  port:
    description: Client port (or secure client port with O(tls)).
    type: int
    default: 2181
  command:
    description: The four-letter word.
    type: str
    default: srvr
    choices: [srvr, mntr, stat, ruok, conf, envi, isro, dirs]
  wait_serving:
    description: Wait until the server answers as a serving member (leader, follower, standalone or observer).
    type: bool
    default: false
  expected_followers:
    description:
      - With O(wait_serving) and O(command=mntr), also wait until a leader reports at least this many
        synced followers.
    type: int
    default: 0
  timeout:
    description: Seconds to wait with O(wait_serving); the socket timeout of one attempt otherwise.
    type: int
    default: 120
  tls:
    description: Connect with TLS (a secure client port).
    type: bool
    default: false
  ca_file:
    description: PEM CA certificates to verify the server with O(tls).
    type: path
  cert_file:
    description: PEM client certificate with O(tls), when the server requires one.
    type: path
  key_file:
    description: PEM private key of O(cert_file).
    type: path
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Wait until this ZooKeeper server is back in the quorum
  kafkaops.platform.zookeeper_info:
    port: 2181
    command: srvr
    wait_serving: true
    timeout: 120

- name: Ask the leader how many followers are in sync
  kafkaops.platform.zookeeper_info:
    command: mntr
  register: zk_mntr
"""

RETURN = r"""
mode:
  description: C(leader), C(follower), C(standalone), C(observer), or null when the server does not serve.
  type: str
  returned: always
serving:
  description: Whether the server serves requests.
  type: bool
  returned: always
answer:
  description: "The answer (C(Key: value) or tab-separated lines) as a dict."
  type: dict
  returned: always
raw:
  description: The answer as text.
  type: str
  returned: always
progress:
  description: The states seen while waiting, with the seconds since the start.
  type: list
  elements: str
  returned: always
"""

import socket
import ssl
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkaops.platform.plugins.module_utils.zookeeper import ZookeeperError, parse_four_letter_word


def ask(params, timeout):
    """Send the word and read the answer until the server closes the connection."""
    sock = socket.create_connection((params["host"], params["port"]), timeout=timeout)
    try:
        if params["tls"]:
            context = ssl.create_default_context(cafile=params["ca_file"])
            if params["cert_file"]:
                context.load_cert_chain(params["cert_file"], params["key_file"])
            sock = context.wrap_socket(sock, server_hostname=params["host"])
        sock.sendall(params["command"].encode("ascii"))
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode("utf-8", "replace")
    finally:
        sock.close()


def serving_enough(answer, params):
    if not answer["serving"]:
        return False
    if params["expected_followers"] and answer["mode"] == "leader":
        return int(answer.get("zk_synced_followers", "0")) >= params["expected_followers"]
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=2181),
            command=dict(type="str", default="srvr", choices=["srvr", "mntr", "stat", "ruok", "conf", "envi", "isro", "dirs"]),
            wait_serving=dict(type="bool", default=False),
            expected_followers=dict(type="int", default=0),
            timeout=dict(type="int", default=120),
            tls=dict(type="bool", default=False),
            ca_file=dict(type="path"),
            cert_file=dict(type="path"),
            key_file=dict(type="path", no_log=False),
        ),
        required_together=[("cert_file", "key_file")],
        supports_check_mode=True,
    )
    params = module.params
    start = time.monotonic()
    progress = []
    last = None
    while True:
        try:
            raw = ask(params, min(10, params["timeout"]))
            answer = parse_four_letter_word(raw)
            if params["command"] == "ruok":
                answer = {"serving": raw.strip() == "imok", "mode": None}
            message = "mode %s" % answer["mode"] if answer["serving"] else "not serving"
        except ZookeeperError as exc:
            module.fail_json(msg=str(exc), progress=progress)
        except (OSError, ssl.SSLError) as exc:
            raw, answer, message = "", {"serving": False, "mode": None}, "not answering: %s" % exc
        if message != last:
            progress.append("%5.1fs %s" % (time.monotonic() - start, message))
            last = message
        if not params["wait_serving"] or serving_enough(answer, params):
            break
        if time.monotonic() - start >= params["timeout"]:
            module.fail_json(msg="ZooKeeper at %s:%d is not serving after %ds: %s"
                             % (params["host"], params["port"], params["timeout"], message), progress=progress)
        time.sleep(1)
    mode = answer.pop("mode", None)
    serving = answer.pop("serving", False)
    module.exit_json(changed=False, mode=mode, serving=serving, answer=answer, raw=raw, progress=progress)


if __name__ == "__main__":
    main()
