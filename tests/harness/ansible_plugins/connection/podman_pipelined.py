# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test hosts' connection: containers.podman.podman with pipelining.

Every `podman exec` costs about 0.2 s of CPU here. The podman connection runs five of them for each
module call (home directory, temporary directory, chmod, the module, clean-up) because it does not
pass standard input to the container, so ansible cannot pipeline through it. This connection passes
`-i` when there is input and declares pipelining, so a module call is one `podman exec`; files
(copy, template) still go through the container's mounted root file system, mounted on first use.
"""
from __future__ import annotations

DOCUMENTATION = """
    name: podman_pipelined
    short_description: Run commands in a podman container, with pipelining
    description:
      - The containers.podman.podman connection, with module input piped to C(podman exec -i)
        so that ansible pipelining works; used for the kafkaops.platform test hosts.
    author: kafkaops.platform maintainers
    options:
      remote_addr:
        description: Name or ID of the container.
        default: inventory_hostname
        vars:
          - name: ansible_host
          - name: inventory_hostname
          - name: ansible_podman_host
      remote_user:
        description: User that runs the commands inside the container.
        ini:
          - section: defaults
            key: remote_user
        env:
          - name: ANSIBLE_REMOTE_USER
        vars:
          - name: ansible_user
      podman_extra_args:
        description: Extra arguments for the podman command line.
        default: ''
        vars:
          - name: ansible_podman_extra_args
        env:
          - name: ANSIBLE_PODMAN_EXTRA_ARGS
      podman_executable:
        description: The podman command.
        default: podman
        vars:
          - name: ansible_podman_executable
        env:
          - name: ANSIBLE_PODMAN_EXECUTABLE
      pipelining:
        description: Pipe modules to the container's Python instead of copying them first.
        type: boolean
        default: true
        env:
          - name: ANSIBLE_PIPELINING
        ini:
          - section: connection
            key: pipelining
        vars:
          - name: ansible_pipelining
"""

import os
import shlex

from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect

from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


class Connection(PodmanConnection):
    """containers.podman.podman with stdin passed through, so ansible can pipeline modules."""

    transport = "podman_pipelined"
    has_pipelining = True

    def _connect(self):
        # the file system is mounted on the first file transfer, not for every task
        self._connected = True
        return self

    def _mount(self):
        if self._mount_point is None:
            PodmanConnection._connect(self)

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        # the base class's bookkeeping only: the parent's command line would drop the input
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        args = ["exec"]
        if in_data is not None:
            args.append("-i")
        if self.user:
            args.extend(("--user", self.user))
        return self._podman(args, shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)

    def put_file(self, in_path, out_path):
        self._mount()
        return super().put_file(in_path, out_path)

    def fetch_file(self, in_path, out_path):
        self._mount()
        if self._mount_point and not os.path.exists(to_bytes(self._mount_point) + to_bytes(in_path)):
            # not in the container's root file system (a tmpfs such as /tmp): ask podman to copy it
            mount_point, self._mount_point = self._mount_point, None
            try:
                return super().fetch_file(in_path, out_path)
            finally:
                self._mount_point = mount_point
        return super().fetch_file(in_path, out_path)
