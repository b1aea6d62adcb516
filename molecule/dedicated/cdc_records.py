# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Read a Debezium topic from the beginning and count its records by row id, for the Connect checks
of the dedicated scenario. Prints one JSON object: records, distinct ids, duplicated ids, the
highest id, and whether any of the given texts appears in a record (a secret must not).

    cdc_records.py BOOTSTRAP TOPIC [--absent TEXT]...
"""
import argparse
import json
import sys

from kafka import KafkaConsumer, TopicPartition


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bootstrap")
    parser.add_argument("topic")
    parser.add_argument("--absent", action="append", default=[])
    args = parser.parse_args()
    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap.split(","), enable_auto_commit=False,
                             consumer_timeout_ms=5000, request_timeout_ms=30000)
    partitions = consumer.partitions_for_topic(args.topic) or set()
    assigned = [TopicPartition(args.topic, p) for p in sorted(partitions)]
    ids, found = [], False
    if assigned:
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        end = consumer.end_offsets(assigned)
        while any(consumer.position(tp) < end[tp] for tp in assigned):
            for records in consumer.poll(timeout_ms=2000).values():
                for record in records:
                    raw = record.value or b""
                    if any(text and text.encode() in raw + (record.key or b"") for text in args.absent):
                        found = True
                    if not raw:
                        continue  # a tombstone
                    value = json.loads(raw)
                    row = value.get("after") or value.get("before") or {}
                    if "id" in row:
                        ids.append(row["id"])
    consumer.close()
    distinct = set(ids)
    json.dump({"records": len(ids), "distinct": len(distinct), "duplicates": len(ids) - len(distinct),
               "max_id": max(distinct) if distinct else 0, "secret_found": found}, sys.stdout)


if __name__ == "__main__":
    main()
