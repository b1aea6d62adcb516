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
    # it can hold secrets (JAAS passwords): root's, readable by the service's group, by no one else
    assert (config.user, config.group) == ("root", "kafka")
    content = config.content_string
    if expected["mode"] == "zookeeper":
        assert "broker.id=%d\n" % me["node_id"] in content
        assert "zookeeper.connect=" in content and "process.roles" not in content
    else:
        assert "node.id=%d\n" % me["node_id"] in content
        assert "process.roles=%s\n" % ",".join(me["roles"]) in content
        assert "zookeeper." not in content


def _find(host, paths, expression, user=None):
    """find's answer for the paths (as the given user), the expression given as one string."""
    prefix = "runuser -u %s -- " % user if user else ""
    return host.run(prefix + "find " + " ".join(["%s"] * len(paths)) + " " + expression, *paths)


def _tree(host, paths, expression=""):
    """(type, owner, group, octal mode) of each path and of everything under it, by path."""
    found = _find(host, paths, expression + " -printf '%%y %%u %%g %%m %%p\\n'")
    assert found.rc == 0, found.stderr
    return {line.split(" ", 4)[4]: tuple(line.split(" ", 4)[:4]) for line in found.stdout.splitlines()}


def _configuration_paths(me, expected):
    """The process's configuration directory and, with the internal CA, the host's TLS directory."""
    return ["%s/%s" % (expected["config_root"], me["service"])] + ([expected["tls_dir"]] if expected["tls_dir"] else [])


def test_configuration_and_secrets_are_roots(host, me, expected):
    """Configuration, JAAS and credential files, key and trust stores: root's, group kafka, 0640, in
    root-owned 0750 directories (the configuration root too); the process reads them, cannot rewrite them."""
    required = ["%s/%s/server.properties" % (expected["config_root"], me["service"])]
    if expected["tls_dir"]:
        required += ["%s/%s" % (expected["tls_dir"], name) for name in (
            "keystore.pem", "truststore.pem", "keystore.d/10-key.pem", "keystore.d/20-cert.pem", "keystore.d/30-ca.pem")]
    found = _tree(host, [expected["config_root"]], "-maxdepth 0")
    found.update(_tree(host, _configuration_paths(me, expected)))
    assert [path for path in required if path not in found] == []
    wrong = {path: entry for path, entry in found.items()
             if entry != {"d": ("d", "root", "kafka", "750"), "f": ("f", "root", "kafka", "640")}.get(entry[0])}
    assert wrong == {}, "not root:kafka 0640 (files) / 0750 (directories): %s" % wrong


def test_no_world_readable_configuration(host, expected):
    """Nothing under the configuration root (nor the TLS directory) is open to others, directories included."""
    found = _find(host, [expected["config_root"]] + ([expected["tls_dir"]] if expected["tls_dir"] else []),
                  "! -type l -perm /o=rwx")
    assert (found.rc, found.stdout) == (0, ""), "open to others: %s%s" % (found.stdout, found.stderr)


def test_the_service_user_reads_but_cannot_change_its_configuration(host, me, expected):
    config = "%s/%s/server.properties" % (expected["config_root"], me["service"])
    assert host.run("runuser -u kafka -- test -r %s", config).rc == 0
    assert host.run("runuser -u kafka -- test -w %s", config).rc != 0, "kafka can write %s" % config
    # find as the service user: every path it may write, and every path it cannot read
    for expression, what in (("-writable", "kafka can write"), ("! -readable", "kafka cannot read")):
        found = _find(host, _configuration_paths(me, expected), expression, user="kafka")
        assert (found.rc, found.stdout) == (0, ""), "%s: %s%s" % (what, found.stdout, found.stderr)
    # what the process writes stays its own: its log directory
    log_dir = "%s/%s" % (expected["log_root"], me["service"])
    assert host.run("runuser -u kafka -- test -w %s", log_dir).rc == 0, "kafka cannot write %s" % log_dir


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
