"""Test hosts for kafkaops.platform: systemd containers under rootful podman.

    hosts.py image [--suite trixie]         build the base image once (debootstrap + podman import)
    hosts.py up   --prefix demo --count 3   boot demo-1..demo-3 (idempotent), wait for systemd
                  [--suite trixie]          ... from that Debian release (default bookworm)
    hosts.py inventory --prefix demo        print a YAML inventory of running hosts
    hosts.py down --prefix demo             remove the hosts

The same commands serve `make demo`, the molecule scenarios and CI. Everything downloaded or
built is cached under .cache/ (the root file system) and in podman's image store.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, ".cache")
# the Debian releases the test hosts run (the roles' meta/main.yml platforms), each with the Java
# the roles install there (platform_java_packages)
SUITES = {"bookworm": "openjdk-17-jre-headless", "trixie": "openjdk-21-jre-headless"}
DEFAULT_SUITE = "bookworm"
COMMON_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "python3", "python3-apt", "iproute2", "procps", "sudo",
    "ca-certificates", "tar", "gzip", "openssl", "netcat-openbsd",
]
# installed with apt-get in the new root after debootstrap (whose own resolver cannot place them)
EXTRA_PACKAGES = ["python3-cryptography"]
IMAGE_REPO = "localhost/kafkaops-host"
# added to the image on top of the packages: a compiled-code cache for the Python that ansible's
# module payloads import from their zip (see tests/harness/hostpy/kafkaops_zipimport_cache.py)
HOST_PYTHON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostpy", "kafkaops_zipimport_cache.py")
SITE_PACKAGES = "usr/lib/python3/dist-packages"
LABEL = "io.kafkaops.harness"


def log(msg: str) -> None:
    print(f"[hosts] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, text=True,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None)


def packages(suite: str) -> list[str]:
    return COMMON_PACKAGES + [SUITES[suite]]


def packages_digest(suite: str) -> str:
    return hashlib.sha256(" ".join([suite] + sorted(packages(suite)) + sorted(EXTRA_PACKAGES)).encode()).hexdigest()[:12]


def host_files() -> dict[str, bytes]:
    """Files laid over the debootstrapped root (path in the image -> content)."""
    with open(HOST_PYTHON, "rb") as handle:
        cache = handle.read()
    return {
        f"{SITE_PACKAGES}/kafkaops_zipimport_cache.py": cache,
        f"{SITE_PACKAGES}/kafkaops_zipimport_cache.pth": b"import kafkaops_zipimport_cache\n",
    }


def image_tag(suite: str = DEFAULT_SUITE) -> str:
    digest = hashlib.sha256(packages_digest(suite).encode())
    for path, content in sorted(host_files().items()):
        digest.update(path.encode() + b"\0" + content)
    return f"{IMAGE_REPO}:{suite}-{digest.hexdigest()[:12]}"


def debian_mirror() -> str:
    """The Debian mirror this machine's apt already uses (never hard-coded)."""
    for path in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        try:
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    parts = line.split()
                    if parts[:1] == ["URIs:"]:
                        return parts[1]
                    if parts[:1] == ["deb"]:
                        return next(p for p in parts[1:] if "://" in p)
        except OSError:
            continue
    raise SystemExit("cannot find the Debian mirror in /etc/apt (needed by debootstrap)")


def build_image(suite: str = DEFAULT_SUITE) -> str:
    tag = image_tag(suite)
    if run(["podman", "image", "exists", tag], check=False).returncode == 0:
        return tag
    rootfs = os.path.join(CACHE, "rootfs", f"{suite}-{packages_digest(suite)}")
    if not os.path.exists(os.path.join(rootfs, "sbin", "init")):
        log(f"debootstrap {suite} into {rootfs} (about a minute)")
        run(["rm", "-rf", rootfs])
        os.makedirs(os.path.dirname(rootfs), exist_ok=True)
        boot = run(["debootstrap", "--variant=minbase", "--include=" + ",".join(packages(suite)),
                    suite, rootfs, debian_mirror()], check=False)
        if boot.returncode != 0:
            raise SystemExit("debootstrap failed:\n" + (boot.stdout + boot.stderr)[-4000:])
        run(["cp", "/etc/resolv.conf", os.path.join(rootfs, "etc", "resolv.conf")])
        extra = run(["chroot", rootfs, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y",
                     "--no-install-recommends"] + EXTRA_PACKAGES, check=False)
        if extra.returncode != 0:
            raise SystemExit("apt-get install in the new root failed:\n" + (extra.stdout + extra.stderr)[-4000:])
        # a container has no console to log in on, and no hardware clock
        for unit in ("getty.target", "console-getty.service", "systemd-timesyncd.service"):
            run(["chroot", rootfs, "systemctl", "mask", unit], check=False)
        run(["chroot", rootfs, "apt-get", "clean"], check=False)
    for path, content in host_files().items():
        with open(os.path.join(rootfs, path), "wb") as handle:
            handle.write(content)
    os.makedirs(os.path.join(rootfs, "var", "cache", "kafkaops-zipimport"), mode=0o755, exist_ok=True)
    log(f"podman import -> {tag}")
    tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(["podman", "import", "--change", "CMD=/sbin/init", "-", tag],
                   stdin=tar.stdout, check=True, stdout=subprocess.DEVNULL)
    tar.wait()
    return tag


def names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(1, count + 1)]


def existing(prefix: str) -> list[str]:
    out = run(["podman", "ps", "-a", "--filter", f"label={LABEL}={prefix}",
               "--format", "{{.Names}}"]).stdout.split()
    return sorted(out, key=lambda n: int(n.rsplit("-", 1)[1]) if n.rsplit("-", 1)[1].isdigit() else 0)


def inspect(name: str) -> dict:
    return json.loads(run(["podman", "inspect", name]).stdout)[0]


def wait_systemd(name: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = run(["podman", "exec", name, "systemctl", "is-system-running"], check=False).stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    raise SystemExit(f"{name}: systemd did not finish booting in {timeout:.0f}s (state: {state or 'unknown'})")


def up(prefix: str, count: int = 0, wanted: list[str] | None = None, suite: str = DEFAULT_SUITE) -> list[str]:
    tag = build_image(suite)
    wanted = wanted or names(prefix, count)
    for name in wanted:
        if run(["podman", "container", "exists", name], check=False).returncode == 0:
            if not inspect(name)["State"]["Running"]:
                run(["podman", "start", name])
            continue
        log(f"starting {name}")
        run(["podman", "run", "-d", "--name", name, "--hostname", name, "--label", f"{LABEL}={prefix}",
             "--systemd=always", "--tmpfs", "/tmp", tag, "/sbin/init"])
    for name in wanted:
        wait_systemd(name)
    return wanted


def address(name: str) -> str:
    data = inspect(name)
    ip = data["NetworkSettings"].get("IPAddress")
    if not ip:
        nets = data["NetworkSettings"].get("Networks") or {}
        ip = next((n.get("IPAddress") for n in nets.values() if n.get("IPAddress")), "")
    return ip


def inventory(prefix: str) -> dict:
    hosts = {}
    for name in existing(prefix):
        hosts[name] = {"ansible_connection": "podman_nsenter", "platform_host_address": address(name)}
    return {"all": {"hosts": hosts}}


def down(prefix: str, attempts: int = 3, pause: float = 3.0) -> None:
    """Remove the hosts. On a loaded machine `podman rm -f` has failed while a container was still
    stopping (exit 2: running or paused); it is tried again, and if hosts are left after the last
    try, the error says which and what podman said."""
    found = existing(prefix)
    if not found:
        return
    log("removing " + " ".join(found))
    for attempt in range(1, attempts + 1):
        result = run(["podman", "rm", "-f", "-t", "5"] + found, check=False)
        found = existing(prefix)
        if not found:
            return
        said = (result.stderr or "").strip() or "nothing"
        log(f"podman rm exited with {result.returncode}, left {' '.join(found)} (try {attempt} of {attempts}): {said}")
        if attempt < attempts:
            time.sleep(pause * attempt)
    raise SystemExit(f"[hosts] could not remove {' '.join(found)}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_image = sub.add_parser("image", help="build the base image (cached)")
    p_image.add_argument("--suite", choices=sorted(SUITES), default=DEFAULT_SUITE)
    p_up = sub.add_parser("up", help="boot hosts")
    p_up.add_argument("--prefix", required=True)
    p_up.add_argument("--suite", choices=sorted(SUITES), default=DEFAULT_SUITE)
    group = p_up.add_mutually_exclusive_group(required=True)
    group.add_argument("--count", type=int, help="boot PREFIX-1 .. PREFIX-COUNT")
    group.add_argument("--names", nargs="+", help="boot these host names (labelled with PREFIX)")
    p_inv = sub.add_parser("inventory", help="print an inventory (JSON is valid YAML)")
    p_inv.add_argument("--prefix", required=True)
    p_down = sub.add_parser("down", help="remove hosts")
    p_down.add_argument("--prefix", required=True)
    args = parser.parse_args(argv)

    if args.cmd == "image":
        print(build_image(args.suite))
    elif args.cmd == "up":
        for name in up(args.prefix, args.count or 0, args.names, args.suite):
            print(f"{name} {address(name)}")
    elif args.cmd == "inventory":
        print(json.dumps(inventory(args.prefix), indent=2))
    elif args.cmd == "down":
        down(args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
