"""The ZooKeeper ensemble: one server per host, myid, zoo.cfg from data with its modes, separate
data and transaction-log directories, exactly one leader, and the brokers registered under the chroot."""
import json

import pytest


@pytest.fixture()
def zk(host, expected):
    name = host.backend.get_hostname()
    for server in expected["zookeeper"]:
        if server["host"] == name:
            return server
    pytest.skip("not a ZooKeeper host")


def four_letter_word(host, word):
    code = ("import socket; s = socket.create_connection(('127.0.0.1', 2181), 5); s.sendall(b'%s'); "
            "print(b''.join(iter(lambda: s.recv(65536), b'')).decode())" % word)
    return host.check_output("python3 -c %s", code)


def test_zookeeper_runs_as_the_service_user(host, zk):
    service = host.service("zookeeper")
    assert service.is_running and service.is_enabled
    pid = host.check_output("systemctl show -p MainPID --value zookeeper")
    assert host.check_output("ps -o user= -p %s", pid).strip() == "kafka"


def test_myid_and_zoo_cfg(host, zk):
    assert host.file("/var/lib/zookeeper/data/myid").content_string.strip() == str(zk["myid"])
    cfg = host.file("/etc/kafka/zookeeper/zoo.cfg")
    assert cfg.mode == 0o640 and (cfg.user, cfg.group) == ("root", "kafka")
    settings = dict(line.split("=", 1) for line in cfg.content_string.splitlines() if "=" in line and not line.startswith("#"))
    assert settings["dataDir"] == "/var/lib/zookeeper/data"
    assert settings["dataLogDir"] == "/var/lib/zookeeper/txlog"
    assert sorted(k for k in settings if k.startswith("server.")) == ["server.1", "server.2", "server.3"]
    assert "srvr" in settings["4lw.commands.whitelist"] and "mntr" in settings["4lw.commands.whitelist"]
    assert settings["admin.enableServer"] == "true"
    # the transaction log lives in its own directory
    assert host.check_output("find /var/lib/zookeeper/txlog -name 'log.*' | head -1")


def test_configuration_is_roots_and_the_data_the_servers(host, zk, expected):
    """zoo.cfg, the JAAS and logging files: root's, group kafka, 0640 in a 0750 directory; the server
    (the kafka user) reads them and cannot change them. It writes only its data (with myid),
    transaction-log and log directories - no dynamic configuration beside zoo.cfg (reconfigEnabled false)."""
    config_dir = "%s/zookeeper" % expected["config_root"]
    lines = host.check_output("find %s -printf '%%y %%u %%g %%m %%p\\n'", config_dir).splitlines()
    found = {line.split(" ", 4)[4]: tuple(line.split(" ", 4)[:4]) for line in lines}
    assert config_dir + "/zoo.cfg" in found and config_dir + "/log4j.properties" in found
    wrong = {path: entry for path, entry in found.items()
             if entry != {"d": ("d", "root", "kafka", "750"), "f": ("f", "root", "kafka", "640")}.get(entry[0])}
    assert wrong == {}, "not root:kafka 0640 (files) / 0750 (directories): %s" % wrong
    assert not [path for path in found if "zoo.cfg." in path], "ZooKeeper wrote beside zoo.cfg: %s" % sorted(found)
    assert host.run("runuser -u kafka -- test -r %s/zoo.cfg", config_dir).rc == 0
    assert host.run("runuser -u kafka -- test -w %s/zoo.cfg", config_dir).rc != 0, "kafka can write zoo.cfg"
    writable = host.run("runuser -u kafka -- find %s -writable", config_dir)
    assert (writable.rc, writable.stdout) == (0, ""), "kafka can write: %s%s" % (writable.stdout, writable.stderr)
    for path in ("/var/lib/zookeeper/data", "/var/lib/zookeeper/txlog", "%s/zookeeper" % expected["log_root"]):
        directory = host.file(path)
        assert (directory.user, directory.group, directory.mode) == ("kafka", "kafka", 0o750), path
    myid = host.file("/var/lib/zookeeper/data/myid")
    assert (myid.user, myid.group, myid.mode) == ("kafka", "kafka", 0o640)
    log = host.check_output("cat %s/zookeeper/zookeeper.log*", expected["log_root"])
    assert "dynamic config file" not in log


def test_four_letter_words_and_one_leader(host, zk, expected):
    mntr = four_letter_word(host, "mntr")
    state = dict(line.split("\t", 1) for line in mntr.splitlines() if "\t" in line)
    assert state["zk_server_state"] in ("leader", "follower")
    if state["zk_server_state"] == "leader":
        assert int(state["zk_synced_followers"]) == len(expected["zookeeper"]) - 1
    assert "Mode: " in four_letter_word(host, "srvr")


def test_admin_server_answers_on_the_loopback(host, zk):
    answer = json.loads(host.check_output(
        "python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/commands/ruok').read().decode())\""))
    assert answer.get("error") is None


def test_brokers_are_registered_under_the_chroot(host, zk, expected):
    out = host.check_output(
        "java -cp '/opt/kafka/current/libs/*' org.apache.zookeeper.ZooKeeperMain -server 127.0.0.1:2181 ls /kafka/brokers/ids 2>/dev/null | tail -1")
    ids = sorted(json.loads(out))
    assert ids == sorted(h["node_id"] for h in expected["hosts"].values())
