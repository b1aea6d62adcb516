# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Real Kafka Connect workers (distributed mode) on 127.0.0.1, for integration tests.

Each worker is one JVM of the same Kafka distribution that :mod:`kafka_local` runs, started with
``org.apache.kafka.connect.cli.ConnectDistributed``; the FileStream and MirrorMaker connectors
ship in its ``libs/``. The workers share a group id, their internal topics live on the given
:class:`kafka_local.LocalKafka` cluster, and the ``file`` and ``env`` config providers are set
up, so connector configs can name secrets in files::

    with LocalConnect(kafka, workers=2) as connect:
        connect.url(1)              # http://127.0.0.1:<port>
        connect.kill_worker(2)      # SIGKILL

With ``tls_ca`` (the PEM CA file the tests trust) the REST API listens on https, its stores given
in ``properties`` (``listeners.https.ssl.*``); with ``auth`` (user, password) the tests log in, and
``jvm_options`` add to the JVM's command line (for example the JAAS file of the basic-auth
extension).
"""
from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import secrets
import shutil
import ssl
import subprocess
import time
import urllib.request

import kafka_local as kl
from kafka_local import props

# what a platform engineer sets for fast failover: an ungraceful worker loss is repaired after
# the session timeout plus the scheduled rebalance delay (Connect's default delay is 5 minutes)
WORKER_DEFAULTS = {
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    "config.storage.replication.factor": 1,
    "offset.storage.replication.factor": 1,
    "status.storage.replication.factor": 1,
    "offset.storage.partitions": 1,
    "status.storage.partitions": 1,
    "offset.flush.interval.ms": 1000,
    "scheduled.rebalance.max.delay.ms": 5000,
    "session.timeout.ms": 10000,
    "heartbeat.interval.ms": 2000,
    "config.providers": "file,env",
    "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
    "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
    "connector.client.config.override.policy": "None",
}


class Worker:
    def __init__(self, index: int, port: int, directory: str):
        self.index = index
        self.port = port
        self.dir = directory
        self.config = os.path.join(directory, "worker.properties")
        self.log = os.path.join(directory, "server.log")
        self.console = os.path.join(directory, "console.log")
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def worker_id(self) -> str:
        return "%s:%d" % (kl.HOST, self.port)


class LocalConnect:
    """``workers`` Connect workers in one group, on ``kafka``."""

    def __init__(self, kafka: kl.LocalKafka, workers: int = 2, properties: dict | None = None,
                 heap: str = "256m", startup_timeout: int = 120, tls_ca: str | None = None,
                 auth: tuple | None = None, jvm_options: list | None = None):
        self.kafka = kafka
        self.tls_ca = tls_ca
        self.auth = auth
        self.jvm_options = list(jvm_options or [])
        self.group = "connect-%s" % secrets.token_hex(3)
        self.properties = dict(WORKER_DEFAULTS, **(properties or {}))
        self.heap = heap
        self.startup_timeout = startup_timeout
        self.count = workers
        self.workers: dict[int, Worker] = {}
        self.dir: str | None = None

    def url(self, index: int = 1) -> str:
        return "%s://%s:%d" % ("https" if self.tls_ca else "http", kl.HOST, self.workers[index].port)

    def get(self, path: str, index: int = 1, timeout: float = 10):
        request = urllib.request.Request(self.url(index) + path)
        if self.auth:
            request.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % self.auth).encode()).decode())
        context = ssl.create_default_context(cafile=self.tls_ca) if self.tls_ca else None
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310 - loopback
            return json.loads(answer.read() or b"null")

    def log_text(self) -> str:
        """Every worker's log, for checks that no secret was written."""
        text = []
        for worker in self.workers.values():
            for path in (worker.log, worker.console):
                with contextlib.suppress(OSError), open(path, errors="replace") as handle:
                    text.append(handle.read())
        return "\n".join(text)

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> LocalConnect:
        self.home = kl.distribution(self.kafka.version)
        self.dir = kl.run_directory(kl.RUN_PREFIX + "connect-")
        atexit.register(self.stop)
        try:
            for index, port in enumerate(kl.free_ports(self.count), start=1):
                worker = Worker(index, port, os.path.join(self.dir, "worker-%d" % index))
                os.makedirs(worker.dir)
                self._configure(worker)
                self.workers[index] = worker
            for worker in self.workers.values():
                self._launch(worker)
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        for worker in self.workers.values():
            self._kill(worker, graceful=False)
        if self.dir and os.environ.get("KAFKA_LOCAL_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalConnect:
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def kill_worker(self, index: int, graceful: bool = False):
        self._kill(self.workers[index], graceful=graceful)

    def start_worker(self, index: int, wait: bool = True):
        worker = self.workers[index]
        if not worker.running:
            self._launch(worker)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: int | None = None):
        """Until every running worker answers and lists the connectors (it joined the group)."""
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        last = "no answer yet"
        while True:
            dead = [w for w in self.workers.values() if w.process is not None and w.process.poll() is not None]
            if dead:
                raise kl.LocalKafkaError("worker(s) %s exited\n%s" % (
                    ", ".join(str(w.index) for w in dead), "\n".join(self._logs(w) for w in dead)))
            try:
                for worker in self.workers.values():
                    if worker.running:
                        self.get("/connectors", worker.index, timeout=5)
                return
            except Exception as exc:  # workers come up and join one by one
                last = str(exc)
            if time.monotonic() >= deadline:
                raise kl.LocalKafkaError("Connect not ready after %ss: %s\n%s" % (
                    timeout or self.startup_timeout, last, "\n".join(self._logs(w) for w in self.workers.values())))
            time.sleep(1)

    # -- internals ------------------------------------------------------------------------------
    def _configure(self, worker: Worker):
        values = dict(self.properties)
        values.update({
            "bootstrap.servers": ",".join(self.kafka.bootstrap_servers),
            "group.id": self.group,
            "config.storage.topic": self.group + "-configs",
            "offset.storage.topic": self.group + "-offsets",
            "status.storage.topic": self.group + "-status",
            "listeners": "%s://%s:%d" % ("https" if self.tls_ca else "http", kl.HOST, worker.port),
            "rest.advertised.listener": "https" if self.tls_ca else "http",
            "rest.advertised.host.name": kl.HOST,
            "rest.advertised.port": worker.port,
        })
        with open(worker.config, "w") as handle:
            handle.write(props.to_java_properties(values, header="connect_local worker %d" % worker.index))
        with open(os.path.join(worker.dir, "log4j2.properties"), "w") as handle:
            handle.write(kl._LOG4J2)

    def _launch(self, worker: Worker):
        cmd = [kl.java(), "-Xms64m", "-Xmx" + self.heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Djava.awt.headless=true", "-Dkafka.logs.dir=" + worker.dir,
               "-Dlog4j2.configurationFile=" + os.path.join(worker.dir, "log4j2.properties")]
        cmd += self.jvm_options + ["-cp", os.path.join(self.home, "libs", "*"), "org.apache.kafka.connect.cli.ConnectDistributed",
                                   worker.config]
        with open(worker.console, "ab") as console:
            worker.process = subprocess.Popen(kl._die_with_parent(cmd), stdout=console, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, cwd=worker.dir, start_new_session=True)

    @staticmethod
    def _kill(worker: Worker, graceful: bool):
        node = kl.Node(worker.index, [], {}, worker.dir)
        node.process = worker.process
        kl.LocalKafka._kill(node, graceful=graceful)
        worker.process = None

    @staticmethod
    def _logs(worker: Worker) -> str:
        return "--- worker %d server.log\n%s--- worker %d console\n%s" % (
            worker.index, kl._tail(worker.log), worker.index, kl._tail(worker.console))
