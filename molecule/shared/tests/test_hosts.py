"""testinfra checks on every host: services, ports, files, modes, owners."""


def test_service_is_running_and_enabled(host, me):
    service = host.service(me["service"])
    assert service.is_running, "%s is not running" % me["service"]
    assert service.is_enabled, "%s is not enabled" % me["service"]


def test_kafka_runs_as_the_service_user(host, me):
    pid = host.check_output("systemctl show -p MainPID --value %s", me["service"])
    assert int(pid) > 0
    assert host.check_output("ps -o user= -p %s", pid).strip() == "kafka"


def test_ports_are_listening(host, me):
    for port in me["ports"]:
        assert host.socket("tcp://0.0.0.0:%d" % port).is_listening or \
            host.socket("tcp://:::%d" % port).is_listening, "nothing listens on port %d" % port


def test_configuration_files_and_modes(host, me, expected):
    directory = host.file("%s/%s" % (expected["config_root"], me["service"]))
    assert directory.is_directory and directory.mode == 0o750
    assert directory.user == "root" and directory.group == "kafka"
    config = host.file("%s/server.properties" % directory.path)
    assert config.is_file
    assert config.mode == 0o640, "server.properties is %o" % config.mode
    # it can hold secrets (JAAS passwords): owned by the service user, readable by no one else
    assert (config.user, config.group) == ("kafka", "kafka")
    content = config.content_string
    if expected["mode"] == "zookeeper":
        assert "broker.id=%d\n" % me["node_id"] in content
        assert "zookeeper.connect=" in content and "process.roles" not in content
    else:
        assert "node.id=%d\n" % me["node_id"] in content
        assert "process.roles=%s\n" % ",".join(me["roles"]) in content
        assert "zookeeper." not in content


def test_no_world_readable_configuration(host, expected):
    found = host.check_output("find %s -perm -o=r -type f", expected["config_root"])
    assert found == "", "world-readable files: %s" % found


def test_storage_is_formatted_once_for_one_cluster(host, me):
    metas = host.check_output("find /var/lib/kafka -name meta.properties").split()
    assert metas, "no formatted storage"
    for path in metas:
        meta = host.file(path)
        assert meta.user == "kafka"
        lines = dict(line.split("=", 1) for line in meta.content_string.splitlines() if "=" in line)
        # a ZooKeeper-mode broker writes version 0 with broker.id (kept after a migration to KRaft)
        assert lines.get("node.id", lines.get("broker.id")) == str(me["node_id"])


def test_file_limit_applies(host, me):
    limit = host.check_output("systemctl show -p LimitNOFILE --value %s", me["service"])
    assert int(limit) >= 10000
