"""A real Kafka client on the control node: create a topic with RF 3 and min.insync.replicas 2,
produce N messages with acks=all, consume all N back, and check that the cluster is one cluster."""
import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic


def test_cluster_has_one_id_and_every_broker(client_config, expected):
    admin = KafkaAdminClient(**client_config)
    try:
        cluster = admin.describe_cluster()
        brokers = sorted(b["broker_id"] for b in cluster["brokers"])
        want = sorted(h["node_id"] for h in expected["hosts"].values() if "broker" in h["roles"])
        assert brokers == want
        if expected["mode"] == "zookeeper":
            return
        quorum = admin.describe_metadata_quorum()["topics"][0]["partitions"][0]
        voters = sorted(v["replica_id"] for v in quorum["current_voters"])
        assert voters == sorted(h["node_id"] for h in expected["hosts"].values() if "controller" in h["roles"])
        assert quorum["leader_id"] in voters
    finally:
        admin.close()


def test_round_trip_with_acks_all(client_config, expected):
    count = int(expected["messages"])
    topic = "verify-%s" % uuid.uuid4().hex[:8]
    rf = min(3, len([h for h in expected["hosts"].values() if "broker" in h["roles"]]))
    admin = KafkaAdminClient(**client_config)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=rf,
                                      topic_configs={"min.insync.replicas": str(min(2, rf))})])
        deadline = time.monotonic() + 60
        while True:
            described = admin.describe_topics([topic])[0]
            partitions = described.get("partitions", [])
            if partitions and all(len(p["isr_nodes"]) == rf for p in partitions):
                break
            assert time.monotonic() < deadline, "topic %s never became fully in sync: %s" % (topic, described)
            time.sleep(1)
        assert all(len(p["replica_nodes"]) == rf for p in partitions)

        producer = KafkaProducer(acks="all", **client_config)
        sent = {"key-%05d" % i: "value-%05d" % i for i in range(count)}
        futures = [producer.send(topic, key=k.encode(), value=v.encode()) for k, v in sent.items()]
        producer.flush(timeout=60)
        for future in futures:
            assert future.get(timeout=30).offset >= 0
        producer.close()

        consumer = KafkaConsumer(topic, group_id="verify-" + topic, auto_offset_reset="earliest",
                                 enable_auto_commit=False, consumer_timeout_ms=20000, **client_config)
        received = {}
        deadline = time.monotonic() + 120
        while len(received) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    received[record.key.decode()] = record.value.decode()
        consumer.close()
        assert received == sent, "consumed %d of %d messages" % (len(received), count)
    finally:
        admin.delete_topics([topic])
        admin.close()
