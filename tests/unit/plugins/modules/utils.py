# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Running a module's main() in a unit test the way Ansible's own unit tests do: hand it arguments
as the controller would, and turn exit_json/fail_json into exceptions the test can catch."""

from __future__ import annotations

import contextlib
import json

from ansible.module_utils import basic


class ExitJson(Exception):
    """main() finished with exit_json."""


class FailJson(Exception):
    """main() finished with fail_json."""


@contextlib.contextmanager
def module_args(args):
    """Hand ``args`` to the next AnsibleModule, as the controller would."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core before 2.19
        patch_module_args = None
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    previous = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = previous


def run_main(main, args, expect=ExitJson, check=False, diff=False):
    """Run a module's ``main`` with ``args`` (and check or diff mode); the result that ``expect``
    (ExitJson or FailJson) carried. Needs :func:`raise_on_exit` in effect."""
    import pytest

    full = dict(args)
    if check:
        full["_ansible_check_mode"] = True
    if diff:
        full["_ansible_diff"] = True
    with module_args(full), pytest.raises(expect) as caught:
        main()
    return caught.value.args[0]


def raise_on_exit(monkeypatch):
    """Make exit_json raise ExitJson(result) and fail_json raise FailJson(result)."""
    def exit_json(module, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(module, msg, **kwargs):
        kwargs["msg"] = msg
        raise FailJson(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


class Clock:
    """time.monotonic and time.sleep for code that polls: sleeping advances the clock at once."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def reassignment_params(**overrides):
    """kafka_reassignment's module.params as its argument spec fills them, with ``overrides``."""
    base = dict(bootstrap_servers=["b1:9092"], security={}, identity=None, listener=None, request_timeout=30,
                state="present", brokers=None, remove_brokers=[], include_topics=None, exclude_topics=None,
                replication_factors=None, use_partition_sizes=True, max_moves=None, assignment=None,
                current_assignment=None, throttle=None, max_moves_per_broker=5, timeout=3600, poll_interval=2.0,
                elect_leaders=True)
    base.update(overrides)
    return base


class FakeAdminBase:
    """A stand-in for KafkaAdmin in a module's run(): called like the class (with the bootstrap servers and
    connection arguments) it returns itself, and it is its own context manager. Subclasses add the admin
    methods the module under test calls."""

    def __call__(self, bootstrap_servers, **kwargs):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
