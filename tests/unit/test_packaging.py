"""What the Galaxy tarball holds, and what the collection declares it needs: the built collection is what users
install (ansible-galaxy, ansible-builder for an AWX execution environment), so test- and development-only files
stay out, and the declared dependencies are the ones the content uses."""
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEV_ONLY = ("tests/", "molecule/", "benchmarks/", ".cache/", ".ci/", ".config/", "inventories/local/",
            "Makefile", "ansible.cfg", "requirements-dev.txt", "ruff.toml", "mypy.ini", "pytest.ini", ".ansible-lint",
            ".gitignore")
RUNTIME = ("plugins/modules/kafka_topic.py", "plugins/module_utils/connection.py", "plugins/doc_fragments/admin.py",
           "plugins/filter/platform.py", "meta/runtime.yml", "meta/execution-environment.yml", "requirements.txt",
           "roles/platform/meta/argument_specs.yml", "roles/kafka_broker/tasks/main.yml", "playbooks/site.yml",
           "inventories/example/hosts.yml", "README.md", "LICENSE", "MANIFEST.json", "FILES.json")


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    galaxy = shutil.which("ansible-galaxy", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("ansible-galaxy")
    out = tmp_path_factory.mktemp("build")
    subprocess.run([galaxy, "collection", "build", str(ROOT), "--output-path", str(out)], check=True,
                   capture_output=True, text=True, timeout=300)
    (tarball,) = out.glob("kafkaops-platform-*.tar.gz")
    with tarfile.open(tarball) as archive:
        return [member.name + ("/" if member.isdir() else "") for member in archive.getmembers()]


def test_the_tarball_holds_no_test_or_development_file(members):
    leaked = [name for name in members
              if name.startswith(DEV_ONLY) or "__pycache__" in name or name.endswith((".pyc", ".tar.gz"))]
    assert leaked == []


def test_the_tarball_holds_what_users_run(members):
    assert sorted(set(RUNTIME) - set(members)) == []


def test_runtime_requirements_are_ranges_and_the_tests_pin_them():
    runtime = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    runtime = [line for line in runtime if line]
    assert runtime and not [line for line in runtime if "==" in line], runtime
    pinned = {line.split("==")[0] for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if "==" in line}
    assert {re.split(r"[<>=!~ ]", line)[0] for line in runtime} <= pinned


def test_the_declared_collections_are_the_ones_the_content_uses():
    declared = set(yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"])
    content = "\n".join(path.read_text() for folder in ("roles", "playbooks", "plugins")
                        for path in (ROOT / folder).rglob("*") if path.suffix in (".yml", ".py", ".j2"))
    used = set(re.findall(r"\b([a-z_]+\.[a-z_]+)\.[a-z_0-9]+\b", content)) & {
        "ansible.posix", "community.crypto", "community.general", "containers.podman", "kubernetes.core",
        "ansible.utils", "community.kubernetes"}
    assert declared == used
