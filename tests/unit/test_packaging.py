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
DEV_ONLY = ("tests/", "molecule/", "benchmarks/", ".cache/", ".ci/", ".config/", "inventories/local/", "inventories/kubernetes-local/",
            "Makefile", "ansible.cfg", "requirements-dev.txt", "ruff.toml", "mypy.ini", "pytest.ini", ".ansible-lint",
            ".gitignore")
RUNTIME = ("plugins/modules/kafka_topic.py", "plugins/module_utils/connection.py", "plugins/doc_fragments/admin.py",
           "plugins/filter/platform.py", "meta/runtime.yml", "meta/execution-environment.yml", "requirements.txt",
           "roles/platform/meta/argument_specs.yml", "roles/kafka_broker/tasks/main.yml", "playbooks/site.yml",
           "inventories/example/hosts.yml", "docs/awx/README.md", "docs/awx/credential_type.yml",
           "docs/awx/configuration.yml", "docs/awx/execution-environment.yml", "docs/awx/requirements.yml", "README.md",
           "LICENSE", "MANIFEST.json", "FILES.json")


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


def test_every_ansible_core_release_claimed_is_the_one_sanity_runs_against():
    """requires_ansible's lowest minor release is the oldest the Makefile's sanity target checks, the newest is the
    pinned one, and each checked release has its ignore file (ansible-test reads tests/sanity/ignore-X.Y.txt)."""
    claimed = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    lowest = re.fullmatch(r">=(\d+)\.(\d+)\.0", claimed)
    assert lowest, "requires_ansible is a lower bound: %r" % claimed
    older = re.search(r"^SANITY_OLDER_CORES \?= (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    pinned = re.search(r"^ansible-core==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), re.M).group(1)
    minors = sorted({tuple(int(part) for part in version.split(".")[:2]) for version in older + [pinned]})
    assert minors[0] == (int(lowest.group(1)), int(lowest.group(2))), (claimed, minors)
    assert [newer[1] - older_minor[1] for older_minor, newer in zip(minors, minors[1:])] == [1] * (len(minors) - 1), "a minor release is skipped"
    for major, minor in minors:
        assert (ROOT / "tests" / "sanity" / ("ignore-%d.%d.txt" % (major, minor))).is_file()


def test_changelog_fragments_do_not_announce_new_modules():
    """antsibull-changelog lists new modules and plugins itself, from their version_added (its "New Modules"
    section): a fragment saying so would make every release note say it twice."""
    said = [path.name for path in (ROOT / "changelogs" / "fragments").glob("*.yml")
            if re.search(r"^\s*- '?[\w, .]+ - new (module|filter|plugin)\b", path.read_text(), re.M)]
    assert said == []
