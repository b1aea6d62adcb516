# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_user against a real cluster (SASL SCRAM-SHA-512, StandardAuthorizer), run through
ansible-playbook: idempotence, check mode, diff, password rotation and removal, proven by
logging in with the credentials; and no secret in the output, even with -vvv."""

from __future__ import annotations

import secrets

import kafka_local


def user_task(title, **options):
    args = {"bootstrap_servers": "{{ bootstrap_servers }}", "security": "{{ security }}"}
    args.update(options)
    return {"name": title, "kafkaops.platform.kafka_user": args}


def variables(cluster, **more):
    return dict(bootstrap_servers=cluster.bootstrap_servers, security=cluster.security, **more)


def test_user_lifecycle(kafka_scram, ansible_playbook):
    user = "user-" + secrets.token_hex(4)
    first, second = "pw-" + secrets.token_urlsafe(12), "pw-" + secrets.token_urlsafe(12)
    extra = variables(kafka_scram, user=user, first=first, second=second)
    create = user_task("Create the user", name="{{ user }}", password="{{ first }}")

    def on_cluster():
        with kafka_scram.admin() as admin:
            return admin.scram_users().get(user)

    run = ansible_playbook([create], extra_vars=extra, check=True, diff=True)
    checked = run.results[0]
    assert checked["changed"] is True
    assert checked["created"] == ["SCRAM-SHA-512"]
    assert checked["diff"]["after"] == "SCRAM-SHA-512: 4096 iterations, new password\n"
    assert on_cluster() is None, "check mode created the user"

    run = ansible_playbook([create, dict(create, name="Create the user again")], extra_vars=extra, diff=True)
    created, again = run.results
    assert created["changed"] is True and again["changed"] is False
    assert again["credentials"] == [{"mechanism": "SCRAM-SHA-512", "iterations": 4096}]
    assert on_cluster() == [{"mechanism": "SCRAM-SHA-512", "iterations": 4096}]
    identity = {"username": user, "password": first}
    assert kafka_scram.can_authenticate(identity)
    assert not kafka_scram.can_authenticate({"username": user, "password": second})

    rotate = user_task("Rotate the password", name="{{ user }}", password="{{ second }}", iterations=8192,
                       update_password="always")
    run = ansible_playbook([rotate], extra_vars=extra, diff=True)
    rotated = run.results[0]
    assert rotated["changed"] is True and rotated["updated"] == ["SCRAM-SHA-512"]
    assert rotated["diff"]["before"] == "SCRAM-SHA-512: 4096 iterations\n"
    assert rotated["diff"]["after"] == "SCRAM-SHA-512: 8192 iterations, new password\n"
    assert on_cluster() == [{"mechanism": "SCRAM-SHA-512", "iterations": 8192}]
    assert kafka_scram.can_authenticate({"username": user, "password": second})
    assert not kafka_scram.can_authenticate(identity)

    remove = user_task("Remove the user", name="{{ user }}", state="absent")
    run = ansible_playbook([remove], extra_vars=extra, check=True)
    assert run.results[0]["changed"] is True
    assert on_cluster() is not None, "check mode removed the user"

    run = ansible_playbook([remove, dict(remove, name="Remove the user again")], extra_vars=extra)
    removed, again = run.results
    assert removed["changed"] is True and removed["deleted"] == ["SCRAM-SHA-512"]
    assert again["changed"] is False
    assert on_cluster() is None
    assert not kafka_scram.can_authenticate({"username": user, "password": second})


def test_no_secret_in_verbose_output(kafka_scram, ansible_playbook):
    user = "quiet-" + secrets.token_hex(4)
    password = "pw-" + secrets.token_urlsafe(16)
    extra = variables(kafka_scram, user=user, password=password)
    tasks = [
        user_task("Create with two mechanisms", name="{{ user }}", password="{{ password }}",
                  mechanisms=["SCRAM-SHA-256", "SCRAM-SHA-512"], update_password="always"),
        user_task("Refused iteration count", name="{{ user }}", password="{{ password }}", iterations=1000),
    ]
    run = ansible_playbook(tasks, extra_vars=extra, diff=True, verbosity=3, expect_failure=True)
    created, refused = run.results
    assert created["changed"] is True
    assert refused["failed"] is True
    assert "iterations must be between 4096 and 16384" in refused["msg"]
    assert "ESTABLISH LOCAL CONNECTION" in run.text, "the run was not verbose"
    leaked = [s for s in [password, *kafka_local.sec.secret_values(kafka_scram.security)] if s in run.text]
    assert leaked == [], "secrets in the ansible-playbook output"
    with kafka_scram.admin() as admin:
        admin.alter_scram_credentials(deletions=[{"user": user, "mechanism": m} for m in ("SCRAM-SHA-256", "SCRAM-SHA-512")])
