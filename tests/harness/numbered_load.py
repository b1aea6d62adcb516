# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Numbered messages sent under acks=all with idempotence, then read back and counted.

:class:`NumberedLoad` sends message 1, 2, 3, ... at a steady rate from a thread, each with
acks=all through an idempotent producer (retries within a delivery timeout, as Kafka's own
producer does them), and records for every number whether the cluster acknowledged it, how long
that took, and the error of a send that failed. :meth:`NumberedLoad.count` reads the topic from
the beginning to its end offsets and counts: acknowledged numbers never read (lost), numbers read
more than once (duplicated), failed sends, and the longest acknowledgement latency. Used by the
reliability scenario's cases and by the security scenario's CA rotation."""
from __future__ import annotations

import collections
import threading
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


class NumberedLoad(threading.Thread):
    """``client``: more kafka-python settings for the producer and the consumer (security)."""

    def __init__(self, bootstrap, topic, rate=25.0, delivery_timeout_ms=120000, client=None):
        super().__init__(daemon=True)
        self.bootstrap = list(bootstrap)
        self.topic = topic
        self.client = dict(client or {})
        self.interval = 1.0 / rate
        self.delivery_timeout_ms = delivery_timeout_ms
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.sent = 0
        self.acked = {}  # number -> seconds from send to acknowledgement
        self.failed = {}  # number -> error
        self.started = None
        self.seconds = None

    def run(self):
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True,
                                 delivery_timeout_ms=self.delivery_timeout_ms, request_timeout_ms=15000,
                                 linger_ms=0, **self.client)
        self.started = time.monotonic()
        next_send = self.started
        number = 0
        while not self.stop_event.is_set():
            number += 1
            sent_at = time.monotonic()
            try:
                future = producer.send(self.topic, value=b"%09d" % number)
                future.add_callback(self._acked, number, sent_at)
                future.add_errback(self._failed, number)
            except Exception as exc:  # a send refused before it left (buffer full, closed): failed
                self._failed(number, exc)
            with self.lock:
                self.sent = number
            next_send += self.interval
            time.sleep(max(0.0, next_send - time.monotonic()))
        producer.flush(timeout=self.delivery_timeout_ms / 1000 + 30)
        producer.close()
        self.seconds = round(time.monotonic() - self.started, 1)

    def _acked(self, number, sent_at, _metadata):
        with self.lock:
            self.acked[number] = time.monotonic() - sent_at

    def _failed(self, number, exc):
        with self.lock:
            self.failed[number] = "%s: %s" % (type(exc).__name__, exc)

    def finish(self):
        """Stop sending, wait for every outstanding acknowledgement, and return the send figures."""
        self.stop_event.set()
        self.join(self.delivery_timeout_ms / 1000 + 60)
        assert not self.is_alive(), "the producer did not finish"
        with self.lock:
            latencies = sorted(self.acked.values())
            return {"sent": self.sent, "acknowledged": len(self.acked), "failed": len(self.failed),
                    "failed_examples": sorted(self.failed.items())[:5],
                    "unanswered": self.sent - len(self.acked) - len(self.failed),
                    "seconds": self.seconds,
                    "max_latency_s": round(latencies[-1], 3) if latencies else None,
                    "p99_latency_s": round(latencies[int(len(latencies) * 0.99) - 1], 3) if latencies else None}

    def count(self, timeout=120):
        """Read the topic from the beginning to its end offsets; the figures of :meth:`finish` with
        lost, duplicated and unacknowledged-but-written messages."""
        figures = self.finish()
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, **self.client)
        partitions = [TopicPartition(self.topic, p) for p in sorted(consumer.partitions_for_topic(self.topic) or [])]
        assert partitions, "topic %s has no partitions" % self.topic
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        seen = collections.Counter()
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            assert time.monotonic() < deadline, "could not read %s to its end offsets %s" % (self.topic, ends)
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    seen[int(record.value)] += 1
        consumer.close()
        with self.lock:
            acked = set(self.acked)
            failed = set(self.failed)
        lost = sorted(acked - set(seen))
        figures.update(read=sum(seen.values()), lost=len(lost), lost_examples=lost[:10],
                       duplicated=sum(n - 1 for n in seen.values() if n > 1),
                       written_but_failed=len(failed & set(seen)))
        return figures
