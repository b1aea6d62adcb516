"""Produce to the cluster without pause while the CA is rotated, and count what failed.

    rotation_producer.py SPEC.json

SPEC: bootstrap_servers, security (the normalized description), identity, ca_bundle (trusting both
CAs), topic, stop_file (stop when it exists), result_file (JSON written at the end), max_seconds.
Every message is sent with acks=all and waited for; a send that fails is counted, not retried.
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
    producer = KafkaProducer(acks="all", retries=5, request_timeout_ms=15000, **config)
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
