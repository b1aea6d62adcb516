"""Produce numbered messages without pause while the CA is rotated, then read them back and count.

    rotation_producer.py SPEC.json

SPEC: bootstrap_servers, security (the normalized description), identity, ca_bundle (trusting both
CAs), topic, stop_file (stop when it exists), result_file (JSON written at the end), max_seconds.
The messages go through tests/harness/numbered_load.py: acks=all with an idempotent producer (retries
within a delivery timeout, as Kafka's own producer does them), then the topic is read from the
beginning and every acknowledged number looked for: lost, duplicated and failed sends are counted.
"""
import json
import os
import sys
import time

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from numbered_load import NumberedLoad

from ansible_collections.kafkaops.platform.plugins.module_utils import security


def main(path):
    with open(path, encoding="utf-8") as handle:
        spec = json.load(handle)
    description = dict(spec["security"])
    description["tls"] = dict(description["tls"], ca_file=spec["ca_bundle"])
    config = security.kafka_python_client_config(security.normalize(description), identity=spec["identity"])
    admin = KafkaAdminClient(bootstrap_servers=spec["bootstrap_servers"], **config)
    admin.create_topics([NewTopic(spec["topic"], num_partitions=3, replication_factor=3,
                                  topic_configs={"min.insync.replicas": "2"})])
    admin.close()
    time.sleep(2)
    load = NumberedLoad(spec["bootstrap_servers"], spec["topic"], rate=20.0, client=config)
    load.start()
    started = time.monotonic()
    while not os.path.exists(spec["stop_file"]) and time.monotonic() - started < spec["max_seconds"]:
        time.sleep(0.5)
    figures = load.count()
    with open(spec["result_file"], "w", encoding="utf-8") as handle:
        json.dump(figures, handle)


if __name__ == "__main__":
    main(sys.argv[1])
