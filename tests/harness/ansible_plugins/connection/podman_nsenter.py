# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test hosts' connection: commands enter the podman container's namespaces with nsenter.

`podman exec` costs about 0.19 s of CPU here (the podman client, conmon and runc, measured: 20 runs
of /bin/true cost 3.88 CPU-s); `nsenter` into the same container costs about 5 ms. The test hosts
are rootful podman containers and the controller runs as root, so a module call is one `nsenter`
into the namespaces of the container's init, with the module piped to its standard input
(ansible pipelining). Files travel the same way (`cat` at the other end), so a path on a tmpfs
inside the container works too.

The container's init PID comes from `podman inspect` once per container and is kept in a small
cache file, checked against the process's start time on every use: a restarted or recreated
container has another init process and is looked up again. Without root on the controller, or for
a remote user other than root, the connection falls back to `podman exec -i`.
"""
from __future__ import annotations

DOCUMENTATION = """
    name: podman_nsenter
    short_description: Run commands in a rootful podman container through nsenter, with pipelining
    description:
      - Runs commands in the namespaces of a running rootful podman container with C(nsenter),
        module input on standard input so that ansible pipelining works; files are streamed the
        same way. Falls back to C(podman exec -i) when the controller is not root or the remote
        user is not root. Used for the kafkaops.platform test hosts.
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
import re
import shlex
import shutil
import subprocess
import tempfile

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect
from ansible.utils.display import Display

from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection

display = Display()

# what `podman exec` gives a command in these containers (the image sets no environment of its own)
CONTAINER_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "container=podman")
NAMESPACES = ("--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup")


def start_time(pid: int, proc: str = "/proc") -> str | None:
    """The start time of a process (field 22 of /proc/PID/stat), or None if there is no such process."""
    try:
        with open(f"{proc}/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces: count from the last ')'
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def nsenter_command(pid: int, argv: list[str]) -> list[str]:
    """The command line that runs argv in the container whose init is pid, with the environment
    podman exec would give it (also used by the verify tests' testinfra backend)."""
    return ["nsenter", f"--target={pid}", *NAMESPACES, "--root", "--wd", "--", "/usr/bin/env", "-i", *CONTAINER_ENV, *argv]


def cache_dir() -> str:
    return os.path.join(tempfile.gettempdir(), f"kafkaops-podman-nsenter-{os.getuid()}")


class Connection(PodmanConnection):
    """Rootful podman containers entered with nsenter; podman exec -i when that cannot be done."""

    transport = "podman_nsenter"
    has_pipelining = True

    def _connect(self):
        # nothing to keep open; the container is found on the first command
        self._connected = True
        return self

    def _use_nsenter(self) -> bool:
        return os.geteuid() == 0 and self.user in (None, "", "root") and shutil.which("nsenter") is not None

    def _cache_file(self) -> str:
        return os.path.join(cache_dir(), re.sub(r"[^A-Za-z0-9_.-]", "_", self._container_id))

    def _init_pid(self) -> int:
        """The PID (on this machine) of the container's init, from the cache when it still runs."""
        path = self._cache_file()
        try:
            with open(path, encoding="ascii") as handle:
                pid, started = handle.read().split()
            if start_time(int(pid)) == started:
                return int(pid)
        except (OSError, ValueError):
            pass
        rc, out, err = self._podman(["inspect", "--format", "{{.State.Pid}}"])
        pid = int(out.strip() or 0) if rc == 0 and out.strip().isdigit() else 0
        if pid <= 0:
            raise AnsibleConnectionFailure(
                f"container {self._container_id} is not running: {to_native(err.strip()) or 'no PID'}")
        started = start_time(pid)
        if started is not None:
            os.makedirs(cache_dir(), mode=0o700, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=cache_dir(), delete=False, encoding="ascii") as handle:
                handle.write(f"{pid} {started}\n")
            os.replace(handle.name, path)
        return pid

    def _nsenter(self, argv: list[str]) -> list[bytes]:
        line = nsenter_command(self._init_pid(), argv)
        display.vvv(f"RUN {line}", host=self._container_id)
        return [to_bytes(part, errors="surrogate_or_strict") for part in line]

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        # the base class's bookkeeping only: the parent's command line would drop the input
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        argv = shlex.split(to_native(cmd, errors="surrogate_or_strict"))
        if not self._use_nsenter():
            args = ["exec"]
            if in_data is not None:
                args.append("-i")
            if self.user:
                args.extend(("--user", self.user))
            return self._podman(args, argv, in_data)
        feed = {"input": in_data} if in_data is not None else {"stdin": subprocess.DEVNULL}
        proc = subprocess.run(self._nsenter(argv), capture_output=True, check=False, **feed)
        return proc.returncode, proc.stdout, proc.stderr

    def _stream(self, script: str, stdin, stdout, what: str) -> None:
        proc = subprocess.run(self._nsenter(["/bin/sh", "-c", script]), stdin=stdin, stdout=stdout,
                              stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            raise AnsibleError(f"{what} failed on {self._container_id}: {to_native(proc.stderr.strip())}")

    def put_file(self, in_path, out_path):
        if not self._use_nsenter():
            return self._via_podman_cp(in_path, f"{self._container_id}:{out_path}")
        ConnectionBase.put_file(self, in_path, out_path)
        display.vvv(f"PUT {in_path} TO {out_path}", host=self._container_id)
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as source:
            self._stream(f"cat > {shlex.quote(out_path)}", source, subprocess.DEVNULL, f"writing {out_path}")
        return None

    def fetch_file(self, in_path, out_path):
        if not self._use_nsenter():
            return self._via_podman_cp(f"{self._container_id}:{in_path}", out_path)
        ConnectionBase.fetch_file(self, in_path, out_path)
        display.vvv(f"FETCH {in_path} TO {out_path}", host=self._container_id)
        with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as dest:
            self._stream(f"cat {shlex.quote(in_path)}", subprocess.DEVNULL, dest, f"reading {in_path}")
        return None

    def _via_podman_cp(self, source, dest):
        rc, _out, err = self._podman("cp", [source, dest], use_container_id=False)
        if rc != 0:
            raise AnsibleError(f"podman cp {source} {dest} failed: {to_native(err.strip())}")
        if self.user and ":" in dest:
            self.exec_command(f"chown {shlex.quote(self.user)} {shlex.quote(dest.split(':', 1)[1])}")
