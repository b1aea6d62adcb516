# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _kubernetes.objects: labels, selectors, metadata and the small objects every manifest is built from."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import objects

SPEC = {"name": "kafka", "namespace": "streams", "labels": {"team": "data"}}


def test_set_names():
    assert objects.set_name("kafka", "combined") == "kafka-combined"


def test_labels_carry_the_users_own():
    assert objects.object_labels(SPEC, "broker") == {
        "app.kubernetes.io/name": "kafka", "app.kubernetes.io/instance": "kafka", "app.kubernetes.io/managed-by": "kafkaops.platform",
        "app.kubernetes.io/component": "broker", "team": "data"}
    assert "app.kubernetes.io/component" not in objects.object_labels(SPEC)


def test_selectors_ignore_the_users_labels():
    assert objects.pod_selector(SPEC) == {"app.kubernetes.io/name": "kafka", "app.kubernetes.io/instance": "kafka"}
    assert objects.pod_selector(SPEC, "controller")["app.kubernetes.io/component"] == "controller"
    assert objects.broker_selector(SPEC) == dict(objects.pod_selector(SPEC), **{"kafkaops.platform/broker": "true"})


def test_metadata():
    assert objects.object_meta(SPEC, "kafka-cluster") == {"name": "kafka-cluster", "namespace": "streams",
                                                          "labels": objects.object_labels(SPEC)}
    assert objects.object_meta(SPEC, "x", annotations={"a": "b"})["annotations"] == {"a": "b"}


@given(st.dictionaries(st.text(max_size=5), st.integers(), max_size=6))
def test_digests_ignore_key_order(value):
    reordered = dict(reversed(list(value.items())))
    assert objects.digest(value) == objects.digest(reordered)
    assert len(objects.digest(value)) == 64


def test_headless_and_typed_services():
    ports = objects.service_ports([{"name": "client", "port": 9092}])
    assert ports == [{"name": "client", "port": 9092, "targetPort": 9092, "protocol": "TCP"}]
    headless = objects.service_object(SPEC, "kafka-broker", "broker", ports, {"a": "b"}, headless=True)
    assert headless["spec"] == {"selector": {"a": "b"}, "ports": ports, "clusterIP": "None", "publishNotReadyAddresses": True}
    balanced = objects.service_object(SPEC, "x", None, ports, {}, kind="LoadBalancer", annotations={"lb": "internal"},
                                      extra={"externalTrafficPolicy": "Local"})
    assert balanced["spec"]["type"] == "LoadBalancer" and balanced["spec"]["externalTrafficPolicy"] == "Local"
    assert balanced["metadata"]["annotations"] == {"lb": "internal"}


def test_routes_pass_tls_through():
    route = objects.route_object(SPEC, "kafka-broker-0", "b0.apps.example.com", "kafka-broker-0-external", "external")
    assert route["spec"]["tls"] == {"termination": "passthrough", "insecureEdgeTerminationPolicy": "None"}
    assert route["spec"]["to"] == {"kind": "Service", "name": "kafka-broker-0-external", "weight": 100}


def test_secret_values_go_to_string_data():
    assert objects.object_data("Secret", {"a": "1"}) == {"stringData": {"a": "1"}}
    assert objects.object_data("ConfigMap", {"a": "1"}) == {"data": {"a": "1"}}
