"""Produce to the cluster without pause while the CA is rotated, and count what failed.

    rotation_producer.py SPEC.json

SPEC: bootstrap_servers, security (the normalized description), identity, ca_bundle (trusting both
CAs), topic, stop_file (stop when it exists), result_file (JSON written at the end), max_seconds.
Every message is sent with acks=all and waited for; the client retries it as Kafka's producer does
(within a 25 s delivery timeout), and a send that still fails is counted, not sent again.
"""
import json
import os
import sys
import time

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from ansible_collections.kafkaops.platform.plugins.module_utils import security


def main(path):
    with open(path, encoding="utf-8") as handle:
        spec = json.load(handle)
    description = dict(spec["security"])
    description["tls"] = dict(description["tls"], ca_file=spec["ca_bundle"])
    config = security.kafka_python_client_config(security.normalize(description), identity=spec["identity"])
    config["bootstrap_servers"] = spec["bootstrap_servers"]
    admin = KafkaAdminClient(**config)
    admin.create_topics([NewTopic(spec["topic"], num_partitions=3, replication_factor=3,
                                  topic_configs={"min.insync.replicas": "2"})])
    admin.close()
    time.sleep(2)
    # retries as Kafka's own producer does them (no count, a delivery timeout): a leader that moves
    # during a restart is waited for, a write that finds no leader for 25 s is counted as failed
    producer = KafkaProducer(acks="all", delivery_timeout_ms=25000, request_timeout_ms=15000, **config)
    sent = acked = 0
    errors = []
    started = time.monotonic()
    while not os.path.exists(spec["stop_file"]) and time.monotonic() - started < spec["max_seconds"]:
        sent += 1
        try:
            producer.send(spec["topic"], value=b"m%08d" % sent).get(timeout=30)
            acked += 1
        except Exception as exc:  # count every failure, whatever its type
            errors.append("%.1fs %s: %s" % (time.monotonic() - started, type(exc).__name__, exc))
        time.sleep(0.05)
    producer.close()
    with open(spec["result_file"], "w", encoding="utf-8") as handle:
        json.dump({"sent": sent, "acked": acked, "errors": errors,
                   "seconds": round(time.monotonic() - started, 1)}, handle)


if __name__ == "__main__":
    main(sys.argv[1])
