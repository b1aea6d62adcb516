"""Produce or consume the messages that must survive the migration.

    python messages.py produce BOOTSTRAP COUNT   # COUNT messages over two RF 3 topics, acks=all
    python messages.py consume BOOTSTRAP COUNT   # read them all back; exit 1 unless all COUNT are there
"""
import contextlib
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

TOPICS = ("migration-orders", "migration-events")


def expected(count):
    return {(TOPICS[i % 2], "key-%06d" % i): "value-%06d" % i for i in range(count)}


def produce(bootstrap, count):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    with contextlib.suppress(TopicAlreadyExistsError):
        admin.create_topics([NewTopic(t, num_partitions=3, replication_factor=3,
                                      topic_configs={"min.insync.replicas": "2"}) for t in TOPICS])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=10)
    futures = [producer.send(topic, key=key.encode(), value=value.encode())
               for (topic, key), value in expected(count).items()]
    producer.flush(timeout=120)
    offsets = [f.get(timeout=60).offset for f in futures]
    producer.close()
    print(json.dumps({"produced": len(offsets), "topics": TOPICS}))


def consume(bootstrap, count):
    consumer = KafkaConsumer(*TOPICS, bootstrap_servers=bootstrap, group_id="migration-check-%d" % time.time(),
                             auto_offset_reset="earliest", enable_auto_commit=False)
    received = {}
    deadline = time.monotonic() + 180
    while len(received) < count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                received[(record.topic, record.key.decode())] = record.value.decode()
    consumer.close()
    want = expected(count)
    missing = len([k for k in want if received.get(k) != want[k]])
    print(json.dumps({"consumed": len(received), "missing": missing}))
    return 0 if missing == 0 and len(received) == count else 1


if __name__ == "__main__":
    action, servers, number = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
    if action == "produce":
        produce(servers, number)
    else:
        sys.exit(consume(servers, number))
