# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""A real Kafka KRaft cluster on 127.0.0.1 for integration tests.

Every node is one JVM, by default a combined controller and broker, with its own ports and
temporary directories. Its ``server.properties`` comes from the collection's own code (the
security model, the process properties merge and the properties renderer), so the tests
exercise the configuration the roles deploy::

    with LocalKafka(nodes=3, security=description) as kafka:
        admin = kafka.admin()            # KafkaAdmin as credentials.admin
        kafka.stop_node(2)
        kafka.start_node(2)

The security description is the ``platform_security`` variable. The harness keeps its
listeners, mechanisms, authorizer and credentials and only replaces, per node, each listener's
port with a free one bound to 127.0.0.1. SCRAM users of ``credentials`` are created when the
storage is formatted, as the roles do.

The distribution is the tarball that ``tests/harness/kafka_dist.sh VERSION`` builds; it is
unpacked once into ``.cache/integration/``. Run this file to keep a cluster up by hand::

    python tests/integration/kafka_local.py --nodes 3
"""
from __future__ import annotations

import atexit
import contextlib
import copy
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)

from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props  # noqa: E402
from ansible_collections.kafkaops.platform.plugins.module_utils import security as sec  # noqa: E402
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin  # noqa: E402

DEFAULT_VERSION = "4.3.1"
HOST = "127.0.0.1"
RUN_PREFIX = "kafka-local-"
CACHE = os.path.join(ROOT, ".cache")

# A KRaft cluster that authenticates everything and authorizes with ACLs: SCRAM-SHA-512 for
# clients and replication, PLAIN for the controller quorum (SCRAM cannot be used there).
SCRAM_SECURITY = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
        {"name": "INTERNAL", "port": 9091, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_PLAINTEXT", "authentication": "plain"},
    ],
    "authorizer": {"enabled": True},
    "credentials": {
        "broker": {"username": "broker", "password": "broker-pw-3Qe9"},
        "controller": {"username": "controller", "password": "controller-pw-7Hs2"},
        "admin": {"username": "admin", "password": "admin-pw-5Kd8"},
    },
}

# INFO to a file per node, nothing on the console (the console goes to a file as well).
_LOG4J2 = """\
name = kafka-local
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka-request.name = kafka.request.logger
logger.kafka-request.level = warn
"""


class LocalKafkaError(RuntimeError):
    """The cluster could not be started or did not become ready; the message holds log tails."""


def java() -> str:
    found = shutil.which("java")
    if not found:
        raise LocalKafkaError("java is not installed (Kafka needs Java 17 or later)")
    return found


def tarball(version: str = DEFAULT_VERSION) -> str:
    return os.path.join(CACHE, "kafka", "kafka_2.13-%s.tgz" % version)


def distribution(version: str = DEFAULT_VERSION) -> str:
    """The unpacked distribution (a directory with ``libs/``), unpacked on first use and again
    when the tarball was rebuilt since (a stamp of its size and time sits in the tree).

    Several test sessions may run at once: a lock file serializes the unpacking, and the
    tree is unpacked next to its final place and renamed into it, so it is never seen half-done.
    """
    name = "kafka_2.13-%s" % version
    base = os.path.join(CACHE, "integration")
    home = os.path.join(base, name)
    source = tarball(version)
    if not os.path.isfile(source):
        raise LocalKafkaError("%s is missing: build it with tests/harness/kafka_dist.sh %s" % (source, version))
    info = os.stat(source)
    stamp = "%d:%d\n" % (info.st_size, info.st_mtime_ns)
    stamp_path = os.path.join(home, ".kafkaops-source")

    def current() -> bool:
        try:
            with open(stamp_path) as handle:
                return os.path.isdir(os.path.join(home, "libs")) and handle.read() == stamp
        except OSError:
            return False

    if current():
        return home
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, ".unpack.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not current():
            staging = tempfile.mkdtemp(prefix=".unpack-", dir=base)
            try:
                with tarfile.open(source) as archive:
                    if hasattr(tarfile, "data_filter"):
                        archive.extractall(staging, filter="data")
                    else:  # Python without extraction filters; the tarball is our own build
                        archive.extractall(staging)  # noqa: S202
                with open(os.path.join(staging, name, ".kafkaops-source"), "w") as handle:
                    handle.write(stamp)
                if os.path.isdir(home):  # an older build's tree
                    os.rename(home, os.path.join(staging, "old"))
                os.rename(os.path.join(staging, name), home)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return home


def _remove_orphans():
    """Remove the directories of clusters whose test process died without cleaning up (its JVMs
    died with it, see :func:`_die_with_parent`)."""
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if not name.startswith(RUN_PREFIX) or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, "owner.pid")) as handle:
                os.kill(int(handle.read()), 0)
        except PermissionError:  # alive, another user's
            continue
        except (OSError, ValueError):  # no owner file, or no such process
            with contextlib.suppress(OSError):
                if time.time() - os.path.getmtime(path) > 60:  # not one being created right now
                    shutil.rmtree(path, ignore_errors=True)


def run_directory(prefix: str) -> str:
    """A new directory for one run's processes, owned by this test process (so that
    :func:`_remove_orphans` removes it once this process is gone)."""
    directory = tempfile.mkdtemp(prefix=prefix)
    with open(os.path.join(directory, "owner.pid"), "w") as handle:
        handle.write(str(os.getpid()))
    return directory


def free_ports(count: int) -> list:
    """``count`` distinct ports that were free on 127.0.0.1 a moment ago."""
    sockets = []
    try:
        while len(sockets) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _die_with_parent(cmd: list) -> list:
    """``cmd`` under ``setpriv --pdeathsig KILL`` when util-linux has it: Linux then kills the JVM
    when the test process dies, even by SIGKILL. The signal follows the thread that started the
    process, so a node (re)started from a helper thread dies with that thread; start nodes from
    the main thread, or rely on :meth:`LocalKafka.stop` and atexit."""
    setpriv = shutil.which("setpriv")
    if setpriv and threading.current_thread() is threading.main_thread():
        return [setpriv, "--pdeathsig", "KILL", "--", *cmd]
    return cmd


@contextlib.contextmanager
def quiet_kafka_python():
    """Silence kafka-python's logging while failures are expected (brokers starting, refused logins)."""
    logger = logging.getLogger("kafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _tail(path: str, lines: int = 30) -> str:
    """The last ``lines`` lines of a log, without Java stack frames (they hide the message)."""
    try:
        with open(path, errors="replace") as handle:
            return "".join([line for line in handle if not line.startswith(("\tat ", "\t... "))][-lines:])
    except OSError:
        return "(no %s)" % os.path.basename(path)


class Node:
    """One Kafka process of a :class:`LocalKafka` cluster."""

    def __init__(self, node_id: int, roles: list, ports: dict, directory: str):
        self.node_id = node_id
        self.roles = roles
        self.ports = ports  # listener name -> port
        self.dir = directory
        self.data_dir = os.path.join(directory, "data")
        self.config = os.path.join(directory, "server.properties")
        self.log = os.path.join(directory, "server.log")
        self.console = os.path.join(directory, "console.log")
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def logs(self, lines: int = 30) -> str:
        return "--- node %d server.log\n%s--- node %d console\n%s" % (
            self.node_id, _tail(self.log, lines), self.node_id, _tail(self.console, lines))


class LocalKafka:
    """A KRaft cluster of ``nodes`` processes on 127.0.0.1.

    ``security``: the ``platform_security`` description (plaintext when empty).
    ``controllers``: how many of the nodes are combined controller+broker (default: all); the
    others are brokers only. Node ids are 1..nodes.
    ``properties``: extra ``server.properties`` (highest precedence; ``None`` removes a key).
    """

    def __init__(self, nodes: int = 1, security: dict | None = None, controllers: int | None = None,
                 properties: dict | None = None, version: str = DEFAULT_VERSION, heap: str = "256m",
                 startup_timeout: int = 120):
        if nodes < 1:
            raise ValueError("nodes must be at least 1")
        controllers = nodes if controllers is None else controllers
        if not 1 <= controllers <= nodes:
            raise ValueError("controllers must be between 1 and nodes")
        self.security = sec.normalize(security or {})
        self.version = version
        self.heap = heap
        self.startup_timeout = startup_timeout
        self.properties = dict(properties or {})
        self.cluster_id = props.generate_cluster_id()
        self.dir = None
        self.home = None
        self._node_count = nodes
        self._controller_count = controllers
        self.nodes = {}

    # -- addresses and clients ------------------------------------------------------------------
    @property
    def node_ids(self) -> list:
        return sorted(self.nodes)

    @property
    def client_listener(self) -> str:
        return self.security["admin_listener"]

    @property
    def bootstrap_servers(self) -> list:
        """``host:port`` of the admin listener of every broker (running or not)."""
        return ["%s:%d" % (HOST, self.nodes[nid].ports[self.client_listener]) for nid in self.node_ids
                if "broker" in self.nodes[nid].roles]

    def client_config(self, identity=None, listener=None) -> dict:
        """kafka-python keyword arguments: bootstrap servers and security for ``identity``
        (an identity name of ``credentials`` or a mapping with username and password;
        default ``credentials.admin``)."""
        config = sec.kafka_python_client_config(self.security, listener=listener, identity=identity, host=HOST)
        config["bootstrap_servers"] = self.bootstrap_servers
        return config

    def admin(self, identity=None, request_timeout: int = 30) -> KafkaAdmin:
        """The collection's admin client, connected to this cluster."""
        return KafkaAdmin(self.bootstrap_servers, security=self.security, identity=identity,
                          request_timeout=request_timeout)

    def server_log(self, node_id: int | None = None) -> str:
        """The ``server.log`` (INFO) of one node, or of every node one after the other."""
        text = []
        for nid in [node_id] if node_id is not None else self.node_ids:
            with contextlib.suppress(OSError), open(self.nodes[nid].log, errors="replace") as handle:
                text.append(handle.read())
        return "".join(text)

    def can_authenticate(self, identity, timeout: float = 2.0) -> bool:
        """Whether ``identity`` (a ``credentials`` name or a mapping with username and password)
        can log in on the admin listener. False only when a broker logged that it refused the
        credentials, so an unreachable cluster is an error, not a refusal."""
        from kafka import KafkaConsumer
        from kafka.errors import KafkaTimeoutError

        refusals = self.server_log().count("Failed authentication")
        try:
            with quiet_kafka_python():
                consumer = KafkaConsumer(**self.client_config(identity=identity),
                                         bootstrap_timeout_ms=int(timeout * 1000))
        except KafkaTimeoutError:
            if self.server_log().count("Failed authentication") > refusals:
                return False
            raise LocalKafkaError("no connection within %ss, and no broker refused the credentials" % timeout) from None
        try:
            consumer.topics()
        finally:
            consumer.close()
        return True

    def produce(self, topic: str, count: int, payload: bytes = b"m" * 1000, partition: int | None = None) -> None:
        """``count`` messages with keys ``"0"``, ``"1"``, ... written with acks=all."""
        from kafka import KafkaProducer

        with quiet_kafka_python():
            producer = KafkaProducer(**self.client_config(), acks="all", linger_ms=20)
            for index in range(count):
                producer.send(topic, payload, key=str(index).encode(), partition=partition)
            producer.flush()
            producer.close()

    def count_keys(self, topic: str, timeout: float = 5.0) -> int:
        """How many distinct keys topic ``topic`` holds, read from the beginning."""
        from kafka import KafkaConsumer

        with quiet_kafka_python():
            consumer = KafkaConsumer(topic, **self.client_config(), auto_offset_reset="earliest",
                                     consumer_timeout_ms=int(timeout * 1000), enable_auto_commit=False)
            keys = {record.key for record in consumer}
            consumer.close()
        return len(keys)

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> LocalKafka:
        """Write the configuration, format the storage, start every node and wait until every
        broker is registered and unfenced. Cleans up after itself when that fails."""
        java()
        self.home = distribution(self.version)
        _remove_orphans()
        self.dir = run_directory(RUN_PREFIX)
        atexit.register(self.stop)
        try:
            self._configure()
            self._format()
            for node_id in self.node_ids:
                self._launch(self.nodes[node_id])
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Kill every node and remove the directories. Safe to call more than once."""
        for node in self.nodes.values():
            self._kill(node, graceful=False)
        if self.dir and os.environ.get("KAFKA_LOCAL_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        atexit.unregister(self.stop)

    def stop_node(self, node_id: int, graceful: bool = True, timeout: int = 60):
        """Stop one node: SIGTERM (a controlled shutdown) then SIGKILL after ``timeout``
        seconds, or SIGKILL at once when not ``graceful``. Its data stays."""
        self._kill(self.nodes[node_id], graceful=graceful, timeout=timeout)

    def start_node(self, node_id: int, wait: bool = True):
        """Start a stopped node again; with ``wait``, until it is registered and unfenced."""
        node = self.nodes[node_id]
        if node.running:
            return
        self._launch(node)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: int | None = None):
        """Wait until every broker whose process runs is registered and unfenced."""
        with quiet_kafka_python():
            return self._wait_ready(timeout)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        last = "no answer yet"
        while True:
            dead = [n for n in self.nodes.values() if n.process is not None and n.process.poll() is not None]
            if dead:
                raise LocalKafkaError("node(s) %s exited with %s\n%s" % (
                    ", ".join(str(n.node_id) for n in dead), ", ".join(str(n.process.returncode) for n in dead),
                    "\n".join(n.logs() for n in dead)))
            expected = {n.node_id for n in self.nodes.values() if n.running and "broker" in n.roles}
            try:
                with self.admin(request_timeout=10) as admin:
                    cluster = admin.cluster()
                live = {b["id"] for b in cluster["brokers"] if not b["fenced"]}
                if expected <= live:
                    return cluster
                last = "brokers %s of %s registered and unfenced" % (sorted(live), sorted(expected))
            except Exception as exc:  # brokers come up one by one
                last = str(exc)
            if time.monotonic() >= deadline:
                raise LocalKafkaError("cluster not ready after %ds: %s\n%s" % (
                    timeout or self.startup_timeout, last, "\n".join(n.logs() for n in self.nodes.values())))
            time.sleep(1)

    def __enter__(self) -> LocalKafka:
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- internals ------------------------------------------------------------------------------
    def _configure(self):
        names = [listener["name"] for listener in self.security["listeners"]]
        controller = self.security["controller_listener"]
        ports = iter(free_ports(len(names) * self._node_count))
        for node_id in range(1, self._node_count + 1):
            roles = ["broker", "controller"] if node_id <= self._controller_count else ["broker"]
            directory = os.path.join(self.dir, "node-%d" % node_id)
            os.makedirs(directory)
            self.nodes[node_id] = Node(node_id, roles, {name: next(ports) for name in names}, directory)
        voters = [{"id": n.node_id, "host": HOST, "port": n.ports[controller]}
                  for n in self.nodes.values() if "controller" in n.roles]
        brokers = self._node_count
        defaults = {
            "offsets.topic.replication.factor": min(3, brokers),
            "transaction.state.log.replication.factor": min(3, brokers),
            "transaction.state.log.min.isr": 1,
            "default.replication.factor": min(3, brokers),
            "min.insync.replicas": 1,
            "num.partitions": 1,
            "auto.create.topics.enable": False,
            "group.initial.rebalance.delay.ms": 0,
            "log.segment.bytes": 16 * 1024 * 1024,
            # the log cleaner allocates this buffer on the heap when it starts; the default, 128 MiB,
            # did not always fit in a 256m heap beside the rest of a starting node (OutOfMemoryError,
            # "Error starting LogManager", in a make test run)
            "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
            "num.io.threads": 2,
            "num.network.threads": 2,
        }
        for node in self.nodes.values():
            description = copy.deepcopy(self.security)
            for listener in description["listeners"]:
                port = node.ports[listener["name"]]
                listener.update(port=port, advertised_port=port, bind_address=HOST, advertised_host=HOST)
            server = sec.server_properties(description, {"roles": node.roles, "host": HOST})
            merged = props.kafka_process_properties({
                "roles": node.roles,
                "node_id": node.node_id,
                "log_dirs": [node.data_dir],
                "controllers": voters,
                "defaults": defaults,
                "security": server,
                "overrides": self.properties,
            })
            with open(node.config, "w", encoding="latin-1") as handle:
                handle.write(props.to_java_properties(merged, header="kafka_local node %d" % node.node_id))
            with open(os.path.join(node.dir, "log4j2.properties"), "w") as handle:
                handle.write(_LOG4J2)

    def _java(self, node: Node, main: list) -> list:
        system = ["-D%s=%s" % item for item in sorted(sec.jvm_system_properties(self.security).items())]
        return [java(), "-Xms64m", "-Xmx" + self.heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Djava.awt.headless=true", "-Dkafka.logs.dir=" + node.dir,
                "-Dlog4j2.configurationFile=" + os.path.join(node.dir, "log4j2.properties"),
                *system, "-cp", os.path.join(self.home, "libs", "*"), *main]

    def _format(self):
        scram = []
        for credential in sec.scram_credentials(self.security):
            scram += ["--add-scram", credential["argument"]]
        running = []
        for node in self.nodes.values():
            cmd = self._java(node, ["kafka.tools.StorageTool", "format", "--cluster-id", self.cluster_id,
                                    "--config", node.config, "--ignore-formatted", *scram])
            output = open(os.path.join(node.dir, "format.log"), "wb")  # noqa: SIM115 - closed below
            running.append((node, output, subprocess.Popen(_die_with_parent(cmd), stdout=output, stderr=subprocess.STDOUT,
                                                           stdin=subprocess.DEVNULL, start_new_session=True)))
        failed = []
        for node, output, process in running:
            try:
                code = process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            output.close()
            if code != 0:
                log = _tail(os.path.join(node.dir, "format.log"), 10)
                failed.append("node %d (exit %d): %s" % (node.node_id, code, log))
        if failed:
            raise LocalKafkaError("formatting the storage failed: " + "\n".join(failed))

    def _launch(self, node: Node):
        with open(node.console, "ab") as console:
            node.process = subprocess.Popen(_die_with_parent(self._java(node, ["kafka.Kafka", node.config])),
                                            stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            cwd=node.dir, start_new_session=True)

    @staticmethod
    def _kill(node: Node, graceful: bool, timeout: int = 60):
        process = node.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                process.wait(timeout=timeout if graceful else 30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        node.process = None


def main(argv=None):
    import argparse
    import json

    parser = argparse.ArgumentParser(description="Run a local KRaft cluster until interrupted.")
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--controllers", type=int)
    parser.add_argument("--scram", action="store_true", help="SASL SCRAM-SHA-512 with the StandardAuthorizer")
    parser.add_argument("--version", default=DEFAULT_VERSION)
    args = parser.parse_args(argv)
    kafka = LocalKafka(nodes=args.nodes, controllers=args.controllers, version=args.version,
                       security=SCRAM_SECURITY if args.scram else None)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop() runs on SIGTERM as on Ctrl-C
    started = time.monotonic()
    with contextlib.suppress(KeyboardInterrupt), kafka:
        print(json.dumps({"bootstrap_servers": kafka.bootstrap_servers, "cluster_id": kafka.cluster_id,
                          "directory": kafka.dir, "seconds": round(time.monotonic() - started, 1)}), flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
