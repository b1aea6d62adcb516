# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""What the collection writes is what Java reads: a properties file rendered by
``to_java_properties`` is loaded with the real java.util.Properties, and JAAS lines rendered by the
security model are parsed by Kafka's own JAAS parser (JaasContext, as a client reads sasl.jaas.config) (kafka-clients from the Kafka release the tests
use). Keys and values are generated: control characters, separators, quotes, backslashes, unicode
beyond the BMP. Every value must come back exactly - which is also what the readers of the unit
tests (test_security_free_text.py) assume."""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import tarfile

import kafka_local
import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import SecurityConfigError
from ansible_collections.kafkaops.platform.plugins.module_utils._security.render import jaas

PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
SPECIAL = "\n\r\t\x00\x0b\x0c\x7f\x85 =:#!\\,;\"'{}/@$%[]*"

READER = r"""
import java.io.FileInputStream;
import java.util.Properties;
import java.util.TreeSet;

public class Reader {
    static String hex(String text) {
        StringBuilder out = new StringBuilder();
        for (char c : text.toCharArray()) out.append(String.format("%04x", (int) c));
        return out.toString();
    }
    public static void main(String[] args) throws Exception {
        Properties properties = new Properties();
        try (FileInputStream in = new FileInputStream(args[0])) { properties.load(in); }
        for (String key : new TreeSet<>(properties.stringPropertyNames())) {
            String value = properties.getProperty(key);
            System.out.println("P " + hex(key) + " " + hex(value));
            if (key.startsWith("jaas.")) {
                var entries = org.apache.kafka.common.security.JaasContext.loadClientContext(
                        java.util.Map.of("sasl.jaas.config", new org.apache.kafka.common.config.types.Password(value)))
                    .configuration().getAppConfigurationEntry("KafkaClient");
                System.out.println("J " + hex(key) + " " + entries.length + " " + entries[0].getLoginModuleName() + " "
                    + hex((String) entries[0].getOptions().get("password")) + " " + entries[0].getOptions().size());
            }
        }
    }
}
"""


def _generated(count, seed=17):
    rng = random.Random(seed)
    pool = list(SPECIAL) + ["a", "Z", "9", ".", "-", "\u00e9", "\u00a0", "\u2028", "\u65e5", "\U0001f600", "\U00010348"]
    return ["".join(rng.choice(pool) for _position in range(rng.randint(1, 16))) for _value in range(count)]


@pytest.fixture(scope="module")
def kafka_clients(tmp_path_factory):
    if not shutil.which("java"):
        pytest.fail("java is not installed: make bootstrap installs a JDK")
    tarball = kafka_local.tarball()
    assert os.path.isfile(tarball), "%s is missing: make test builds it (tests/harness/kafka_dist.sh)" % tarball
    folder = tmp_path_factory.mktemp("kafka-clients")
    jars = []
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            name = os.path.basename(member.name)
            if name.startswith(("kafka-clients-", "slf4j-api-")) and name.endswith(".jar"):
                target = folder / name
                target.write_bytes(archive.extractfile(member).read())
                jars.append(str(target))
    assert len(jars) == 2, jars
    source = folder / "Reader.java"
    source.write_text(READER)
    return jars, str(source)


def test_java_reads_back_every_generated_key_value_and_jaas_password(tmp_path, kafka_clients):
    jars, source = kafka_clients
    values = _generated(400)
    expected = {}
    for index, value in enumerate(values):
        expected["value.%03d" % index] = value
        expected["key.%03d.%s" % (index, value)] = "k"
    jaas_lines = {}
    for index, value in enumerate(values):
        try:
            line = jaas(PLAIN, [("username", "u"), ("password", value)])
        except SecurityConfigError:
            # control characters are refused before they reach a JAAS line
            assert any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in value)
            continue
        expected["jaas.%03d" % index] = line
        jaas_lines["jaas.%03d" % index] = value
    assert len(jaas_lines) > 100
    path = tmp_path / "generated.properties"
    path.write_text(props.to_java_properties(expected, header="generated"), encoding="ascii")
    result = subprocess.run(["java", "-cp", os.pathsep.join(jars), source, str(path)], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    read, parsed = {}, {}
    for line in result.stdout.splitlines():
        kind, key, rest = line.split(" ", 2)
        key_text = bytes.fromhex(key).decode("utf-16-be")
        if kind == "P":
            read[key_text] = bytes.fromhex(rest).decode("utf-16-be")
        else:
            count, module, password, options = rest.split(" ")
            parsed[key_text] = (int(count), module, bytes.fromhex(password).decode("utf-16-be"), int(options))
    assert read == expected
    # and the collection's own reader agrees with Java's
    assert props.parse_java_properties(path.read_text(encoding="ascii")) == expected
    assert parsed == {key: (1, PLAIN, value, 2) for key, value in jaas_lines.items()}
