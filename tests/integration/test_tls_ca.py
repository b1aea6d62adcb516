# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The internal CA on the control node (roles/platform/tasks/tls_ca.yml), run for real on this machine
with ``ansible-playbook`` against localhost, in temporary directories:

1. with ``platform_tls_ca_passphrase`` (from an Ansible Vault string, as docs/security.md says) the CA
   key is written encrypted - ``openssl pkey`` opens it only with the passphrase - and tls.yml signs a
   host certificate with it that verifies against the CA; a second run changes nothing and no run
   prints the passphrase, even with -vvv;
2. a wrong passphrase, or none for an encrypted key, stops the run with a message saying what to do,
   and the key stays as it was;
3. an unencrypted key and a passphrase now set stop the run with the openssl command that encrypts the
   key; after that command the run passes and the CA is still the same CA;
4. a CA directory inside a git work tree that does not ignore the key gets the warning naming the key
   and the .gitignore line; with that line in .gitignore the warning is gone.

tls.yml installs python3-cryptography on the host first; here the package step is answered by a
no-op module named in ``ansible_package_use`` so that the test installs nothing.
"""
from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
BIN = os.path.dirname(sys.executable)
PASSPHRASE = "CA pass-phrase 7"
WARNING = "WARNING: the internal CA's private key"

pytestmark = pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("git")),
                                reason="needs openssl and git on the control node")

NO_PACKAGE_MODULE = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

AnsibleModule(argument_spec={"name": {"type": "raw"}, "state": {"type": "str"}},
              supports_check_mode=True).exit_json(changed=False)
'''


def include(tasks_from):
    return {"name": "Run " + tasks_from, "ansible.builtin.include_role": {
        "name": "kafkaops.platform.platform", "tasks_from": tasks_from}}


class Run:
    def __init__(self, process):
        self.rc = process.returncode
        self.text = process.stdout + process.stderr
        start = process.stdout.find("{\n")
        assert start >= 0, self.text[-3000:]
        self.report = json.JSONDecoder().raw_decode(process.stdout, start)[0]

    @property
    def changed(self) -> int:
        return self.report["stats"]["localhost"]["changed"]

    def results(self, name: str) -> list:
        return [task["hosts"]["localhost"] for play in self.report["plays"] for task in play["tasks"]
                if task["task"]["name"].split(" : ")[-1] == name]

    def failure(self) -> str:
        failed = [result for play in self.report["plays"] for task in play["tasks"]
                  for result in task["hosts"].values() if result.get("failed")]
        assert failed, self.text[-3000:]
        return failed[0]["msg"]

    def warnings(self) -> list:
        return [result["msg"] for result in self.results("Warn that git would not ignore the CA key")
                if not result.get("skipped")]


class Playbooks:
    """Writes a play of ``tasks`` against localhost and runs it with the collection, the variables in a
    file (the passphrase as an Ansible Vault string) and the JSON callback."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.count = 0
        (workdir / "library").mkdir()
        (workdir / "library" / "kafkaops_test_no_package.py").write_text(NO_PACKAGE_MODULE)
        (workdir / "inventory.ini").write_text(
            "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        (workdir / "ansible.cfg").write_text("[defaults]\ninternal_poll_interval = 0.01\n"
                                             "[connection]\npipelining = true\n")
        self.vault_password = workdir / "vault-password"
        self.vault_password.write_text("vault password of the test")
        self.vault_password.chmod(0o600)
        self.vaulted_files = {}
        self.env = dict(os.environ, ANSIBLE_CONFIG=str(workdir / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
                        ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="false",
                        ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"), ANSIBLE_DEPRECATION_WARNINGS="false",
                        # no user or system git configuration (a global excludes file would hide the warning)
                        GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", PYTHONWARNINGS="ignore")

    def vaulted(self, passphrase: str) -> str:
        """The ``platform_tls_ca_passphrase: !vault |`` line that docs/security.md has users make."""
        made = subprocess.run([os.path.join(BIN, "ansible-vault"), "encrypt_string", "--vault-password-file",
                               str(self.vault_password), "--stdin-name", "platform_tls_ca_passphrase"],
                              input=passphrase, env=self.env, capture_output=True, text=True, timeout=60, check=True)
        return made.stdout

    def run(self, tasks, variables, passphrase=None, gather=False, verbosity=0) -> Run:
        self.count += 1
        playbook = self.workdir / ("playbook-%d.yml" % self.count)
        playbook.write_text(json.dumps([{"name": "tls_ca test", "hosts": "localhost", "gather_facts": gather,
                                         "gather_subset": ["!all"], "tasks": tasks}], indent=2))
        varfile = self.workdir / ("vars-%d.yml" % self.count)
        varfile.write_text(json.dumps(variables) + "\n")
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(self.workdir / "inventory.ini"), "-e", "@%s" % varfile]
        if passphrase is not None:
            if passphrase not in self.vaulted_files:
                secret = self.workdir / ("passphrase-%d.yml" % len(self.vaulted_files))
                secret.write_text(self.vaulted(passphrase))
                self.vaulted_files[passphrase] = secret
            cmd += ["-e", "@%s" % self.vaulted_files[passphrase], "--vault-password-file", str(self.vault_password)]
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        process = subprocess.run(cmd + [str(playbook)], cwd=self.workdir, env=self.env, capture_output=True,
                                 text=True, timeout=180, check=False)
        return Run(process)


def openssl_opens(key, passphrase: str) -> bool:
    return subprocess.run(["openssl", "pkey", "-in", str(key), "-noout", "-passin", "pass:" + passphrase],
                          capture_output=True, check=False).returncode == 0


def fingerprint(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def playbooks(tmp_path_factory):
    return Playbooks(tmp_path_factory.mktemp("tls-ca"))


@pytest.fixture(scope="module")
def encrypted_ca(playbooks, tmp_path_factory):
    """A CA made with the passphrase by tls.yml (which includes tls_ca.yml), and a host certificate
    signed with it, run with -vvv."""
    if os.geteuid() != 0:
        pytest.skip("tls.yml makes the host's TLS files owned by root")
    base = tmp_path_factory.mktemp("encrypted")
    variables = {"platform_tls_ca_dir": str(base / "ca"), "platform_tls_dir": str(base / "host-tls"),
                 "platform_kafka_user": pwd.getpwuid(os.getuid()).pw_name,
                 "platform_kafka_group": grp.getgrgid(os.getgid()).gr_name,
                 "ansible_package_use": "ansible.legacy.kafkaops_test_no_package"}
    tasks = [include("tls.yml")]
    first = playbooks.run(tasks, variables, passphrase=PASSPHRASE, gather=True, verbosity=3)
    assert first.rc == 0, first.text[-5000:]
    return {"ca": base / "ca", "tls": base / "host-tls", "first": first, "tasks": tasks, "variables": variables}


def test_the_ca_key_is_encrypted_signs_a_host_certificate_and_a_rerun_changes_nothing(playbooks, encrypted_ca):
    ca, first = encrypted_ca["ca"], encrypted_ca["first"]
    key = ca / "ca.key"
    assert first.changed > 0
    assert key.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert openssl_opens(key, PASSPHRASE)
    assert not openssl_opens(key, "")
    assert not openssl_opens(key, "another passphrase")

    # the host certificate tls.yml signed with the encrypted key verifies against the CA
    certificate = encrypted_ca["tls"] / "keystore.d" / "20-cert.pem"
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(ca / "ca.crt"), str(certificate)],
                              capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    signing = first.results("Sign the host certificate with the internal CA")
    assert signing and signing[0]["changed"] and signing[0].get("censored"), signing

    again = playbooks.run(encrypted_ca["tasks"], encrypted_ca["variables"], passphrase=PASSPHRASE, gather=True)
    assert again.rc == 0, again.text[-5000:]
    assert again.changed == 0, [t["task"]["name"] for p in again.report["plays"] for t in p["tasks"]
                                if t["hosts"]["localhost"].get("changed")]
    assert PASSPHRASE not in first.text and PASSPHRASE not in again.text


def test_a_wrong_or_missing_passphrase_stops_the_run_and_keeps_the_key(playbooks, encrypted_ca):
    key = encrypted_ca["ca"] / "ca.key"
    before = fingerprint(key)
    variables = {"platform_tls_ca_dir": str(encrypted_ca["ca"])}

    wrong = playbooks.run([include("tls_ca.yml")], variables, passphrase="not the passphrase", verbosity=3)
    assert wrong.rc != 0
    message = wrong.failure()
    assert message.startswith("platform_tls_ca_passphrase does not open the CA key %s " % key), message
    assert "Traceback" not in wrong.text
    assert "not the passphrase" not in wrong.text

    missing = playbooks.run([include("tls_ca.yml")], variables)
    assert missing.rc != 0
    message = missing.failure()
    assert message.startswith("The CA key %s cannot be read without a passphrase" % key), message
    assert "set platform_tls_ca_passphrase" in message

    assert fingerprint(key) == before


def test_an_unencrypted_key_is_kept_until_it_is_encrypted_with_the_command_the_run_gives(playbooks, tmp_path):
    ca = tmp_path / "ca"
    variables = {"platform_tls_ca_dir": str(ca)}
    plain = playbooks.run([include("tls_ca.yml")], variables)
    assert plain.rc == 0, plain.text[-5000:]
    assert "ENCRYPTED" not in (ca / "ca.key").read_text()
    ca_certificate = fingerprint(ca / "ca.crt")
    key = fingerprint(ca / "ca.key")

    refused = playbooks.run([include("tls_ca.yml")], variables, passphrase=PASSPHRASE)
    assert refused.rc != 0
    message = refused.failure()
    assert message.startswith("platform_tls_ca_passphrase is set but the existing CA key %s/ca.key is not encrypted"
                              % ca), message
    command = "cd %s && (umask 077 && openssl pkey -in ca.key -aes256 -out ca.key.new) && mv ca.key.new ca.key" % ca
    assert command in message
    assert fingerprint(ca / "ca.key") == key

    # the command as given, with the passphrase from a file instead of the terminal
    encrypted = subprocess.run(["bash", "-c", command.replace("-aes256", "-aes256 -passout file:/dev/stdin")],
                               input=PASSPHRASE, capture_output=True, text=True, check=False)
    assert encrypted.returncode == 0, encrypted.stderr
    assert oct((ca / "ca.key").stat().st_mode & 0o777) == "0o600"
    accepted = playbooks.run([include("tls_ca.yml")], variables, passphrase=PASSPHRASE)
    assert accepted.rc == 0, accepted.text[-5000:]
    assert accepted.changed == 0
    assert fingerprint(ca / "ca.crt") == ca_certificate


def test_a_ca_directory_in_a_git_work_tree_that_does_not_ignore_the_key_is_warned_about(playbooks, tmp_path):
    repository = tmp_path / "repository"
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    ca = repository / "inventories" / "prod" / ".kafkaops-ca"
    variables = {"platform_tls_ca_dir": str(ca)}

    warned = playbooks.run([include("tls_ca.yml")], variables)
    assert warned.rc == 0, warned.text[-5000:]
    assert warned.warnings() == [
        "WARNING: the internal CA's private key %s/ca.key is inside the git work tree %s and git does not ignore it:"
        " once committed, everyone who can read the repository can issue certificates your cluster trusts. Add the"
        " line '/inventories/prod/.kafkaops-ca/ca.key' to %s/.gitignore, or set platform_tls_ca_dir to a directory"
        " outside the repository (see docs/security.md, \"Where the CA key lives\")." % (ca, repository, repository)]

    (repository / ".gitignore").write_text("/inventories/prod/.kafkaops-ca/ca.key\n")
    quiet = playbooks.run([include("tls_ca.yml")], variables)
    assert quiet.rc == 0, quiet.text[-5000:]
    assert quiet.warnings() == []
    assert WARNING not in quiet.text
