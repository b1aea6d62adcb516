#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_smoke_test
short_description: Prove that a Kafka cluster takes and serves data end to end
version_added: 0.1.0
description:
  - Creates a temporary topic replicated like production topics, produces messages with
    C(acks=all), consumes every one of them back, compares them, and deletes the topic.
  - Leaves nothing behind, so it reports no change; in check mode it does nothing.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  messages:
    description: How many messages to produce and consume.
    type: int
    default: 1000
  replication_factor:
    description: Replication factor of the temporary topic (at most the number of brokers).
    type: int
    default: 3
  min_insync_replicas:
    description: C(min.insync.replicas) of the temporary topic.
    type: int
    default: 2
  partitions:
    description: Partitions of the temporary topic.
    type: int
    default: 3
  topic_prefix:
    description: Name prefix of the temporary topic; a random suffix is added.
    type: str
    default: kafkaops-smoke-
  timeout:
    description: Seconds allowed for the whole round trip.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Produce and consume 1000 messages through the cluster
  kafkaops.platform.kafka_smoke_test:
    bootstrap_servers: "{{ platform_bootstrap_servers }}"
    security: "{{ platform_security }}"
    identity: admin
  delegate_to: localhost
"""

RETURN = r"""
topic:
  description: Name of the temporary topic.
  type: str
  returned: unless in check mode
produced:
  description: Messages acknowledged by all in-sync replicas.
  type: int
  returned: unless in check mode
consumed:
  description: Messages read back that match what was produced.
  type: int
  returned: unless in check mode
produce_seconds:
  description: Time to produce and have every message acknowledged.
  type: float
  returned: unless in check mode
consume_seconds:
  description: Time to read every message back.
  type: float
  returned: unless in check mode
"""

import time
import uuid

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kafkaops.platform.plugins.module_utils.connection import KafkaModule
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import (
    ADMIN_ARGUMENT_SPEC,
    HAS_KAFKA,
    KAFKA_IMPORT_ERROR,
    KafkaAdmin,
    KafkaAdminError,
    admin_arguments,
    client_config,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError

try:
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.admin import NewTopic
except ImportError:  # reported through HAS_KAFKA
    pass


def round_trip(params, deadline):
    arguments = admin_arguments(params)
    config = client_config(arguments["security"], listener=arguments["listener"], identity=arguments["identity"],
                           options=arguments["options"])
    config["bootstrap_servers"] = params["bootstrap_servers"]
    topic = params["topic_prefix"] + uuid.uuid4().hex[:10]
    admin = KafkaAdmin(params["bootstrap_servers"], **arguments)
    admin.connect(deadline=deadline)
    try:
        admin.raw.create_topics([NewTopic(topic, num_partitions=params["partitions"],
                                          replication_factor=params["replication_factor"],
                                          topic_configs={"min.insync.replicas": str(params["min_insync_replicas"])})])
        while True:
            parts = [p for p in admin.partitions() if p["topic"] == topic]
            if len(parts) == params["partitions"] and all(
                    len(p["isr"]) == params["replication_factor"] for p in parts):
                break
            if time.monotonic() > deadline:
                raise KafkaAdminError("topic %s did not get %d in-sync replicas in time" %
                                      (topic, params["replication_factor"]))
            time.sleep(0.5)

        sent = {("k%07d" % i).encode(): ("v%07d" % i).encode() for i in range(params["messages"])}
        started = time.monotonic()
        producer = KafkaProducer(acks="all", **config)
        try:
            futures = [producer.send(topic, key=k, value=v) for k, v in sent.items()]
            producer.flush(timeout=max(1, deadline - time.monotonic()))
            produced = sum(1 for f in futures if f.get(timeout=max(1, deadline - time.monotonic())).offset >= 0)
        finally:
            producer.close()
        produce_seconds = time.monotonic() - started

        started = time.monotonic()
        consumer = KafkaConsumer(topic, group_id=topic, auto_offset_reset="earliest", enable_auto_commit=False,
                                 **config)
        received = {}
        try:
            while len(received) < len(sent) and time.monotonic() < deadline:
                for records in consumer.poll(timeout_ms=1000).values():
                    for record in records:
                        received[record.key] = record.value
        finally:
            consumer.close()
        consume_seconds = time.monotonic() - started
        consumed = sum(1 for k, v in received.items() if sent.get(k) == v)
        return dict(topic=topic, produced=produced, consumed=consumed,
                    produce_seconds=round(produce_seconds, 3), consume_seconds=round(consume_seconds, 3))
    finally:
        try:
            admin.raw.delete_topics([topic])
        finally:
            admin.close()


def main():
    spec = dict(ADMIN_ARGUMENT_SPEC)
    spec.update(
        messages=dict(type="int", default=1000),
        replication_factor=dict(type="int", default=3),
        min_insync_replicas=dict(type="int", default=2),
        partitions=dict(type="int", default=3),
        topic_prefix=dict(type="str", default="kafkaops-smoke-"),
        timeout=dict(type="int", default=120),
    )
    module = KafkaModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_KAFKA:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    params = module.params
    if params["min_insync_replicas"] > params["replication_factor"]:
        module.fail_json(msg="min_insync_replicas (%d) must not exceed replication_factor (%d)"
                         % (params["min_insync_replicas"], params["replication_factor"]))
    if module.check_mode:
        module.exit_json(changed=False, msg="check mode: no messages sent")
    try:
        result = round_trip(params, time.monotonic() + params["timeout"])
    except (KafkaAdminError, SecurityConfigError) as exc:
        module.fail_json(msg=str(exc))
    except Exception as exc:  # kafka-python raises many types; report them plainly
        module.fail_json(msg="round trip failed: %s: %s" % (type(exc).__name__, exc))
    if result["consumed"] != params["messages"] or result["produced"] != params["messages"]:
        module.fail_json(msg="produced %d and consumed %d of %d messages" % (
            result["produced"], result["consumed"], params["messages"]), **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
