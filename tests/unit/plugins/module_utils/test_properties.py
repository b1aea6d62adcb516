# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of module_utils.properties: the Java properties format (checked against the JVM itself when a
JDK is installed), the merge of one process's configuration, the quorum voters and cluster ids."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
from ansible_collections.kafkaops.platform.plugins.module_utils.properties import PropertiesError

# --------------------------------------------------------------------------------------------------
# Strategies: text that exercises every rule of the format
# --------------------------------------------------------------------------------------------------

NASTY = ["\n", "\r", "\r\n", "\t", "\f", "\x0b", "\x00", "\x1f", "\x7f", "\x85", "\xa0", "\xff", "\u0100",
         "\u2028", "\u3000", "\ufeff", "\uffff", "\U0001f600", "\U00010000", "\U0010ffff", "\\", "\\\\", "\\u",
         "\\n", "=", ":", "#", "!", " ", "  ", "é", "€"]
PIECES = st.one_of(st.characters(), st.sampled_from(NASTY))  # st.characters() never yields lone surrogates
TEXT = st.lists(PIECES, max_size=12).map("".join)
KEYS = TEXT.filter(bool)
PROPERTY_DICTS = st.dictionaries(KEYS, TEXT, max_size=6)


def test_rendering_is_sorted_with_header_and_without_none():
    text = props.to_java_properties({"b.key": "2", "a.key": 1, "gone": None, "c.key": "x"},
                                    header="Managed by kafkaops\nsecond line")
    assert text == "# Managed by kafkaops\n# second line\na.key=1\nb.key=2\nc.key=x\n"


def test_values_take_kafka_text_forms():
    text = props.to_java_properties({"t": True, "f": False, "l": ["a", "b", 3], "n": 0, "tu": ("x", True)})
    assert props.parse_java_properties(text) == {"t": "true", "f": "false", "l": "a,b,3", "n": "0", "tu": "x,true"}


def test_empty_dict_and_no_header():
    assert props.to_java_properties({}) == "\n"
    assert props.parse_java_properties(props.to_java_properties({})) == {}


@pytest.mark.parametrize("value", [None, [("a", 1)], "a=1", 3])
def test_rendering_needs_a_dict(value):
    with pytest.raises(PropertiesError, match="properties must be a dict"):
        props.to_java_properties(value)


def test_empty_property_name_is_refused():
    with pytest.raises(PropertiesError, match="empty property name"):
        props.to_java_properties({"": "x"})


@pytest.mark.parametrize("data,line", [
    ({"a b=c:d": "v"}, "a\\ b\\=c\\:d=v"),
    ({"#k": "#v"}, "\\#k=\\#v"),
    ({"!k": "x!y#z"}, "\\!k=x!y#z"),
    ({"k": " lead and trail "}, "k=\\ lead and trail "),
    ({"k": "a=b:c"}, "k=a=b:c"),
    ({"k": "line1\nline2\r\ttab\fff"}, "k=line1\\nline2\\r\\ttab\\fff"),
    ({"k": "back\\slash\\"}, "k=back\\\\slash\\\\"),
    ({"k": "caf\xe9 \u20ac"}, "k=caf\\u00e9 \\u20ac"),
    ({"k": "\x00\x7f"}, "k=\\u0000\\u007f"),
    ({"k": "\U0001f600"}, "k=\\ud83d\\ude00"),
    ({"k": "\U0010ffff\U00010000"}, "k=\\udbff\\udfff\\ud800\\udc00"),
    ({"\U0001f511": ""}, "\\ud83d\\udd11="),
])
def test_escapes(data, line):
    assert props.to_java_properties(data) == line + "\n"


def test_header_with_non_ascii_keeps_the_file_ascii():
    text = props.to_java_properties({"a": "1"}, header="caf\xe9 \U0001f600\ttab")
    assert text == "# caf\\u00e9 \\ud83d\\ude00\ttab\na=1\n"
    assert props.parse_java_properties(text) == {"a": "1"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PROPERTY_DICTS, st.one_of(st.none(), TEXT))
def test_round_trip(data, header):
    text = props.to_java_properties(data, header=header)
    assert text.isascii(), "java.util.Properties.load(InputStream) reads ISO-8859-1: everything else is escaped"
    assert props.parse_java_properties(text) == data
    keys = [line for line in text.split("\n") if line and not line.startswith("# ")]
    assert len(keys) == len(data), "one line per property, nothing else"


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(KEYS, st.one_of(TEXT, st.none()), max_size=6))
def test_none_values_are_left_out(data):
    expected = {k: v for k, v in data.items() if v is not None}
    assert props.parse_java_properties(props.to_java_properties(data)) == expected


# --------------------------------------------------------------------------------------------------
# Parsing files written by others (Kafka's meta.properties, hand-edited files)
# --------------------------------------------------------------------------------------------------

RAW_TEXTS = {
    "separators": "a=1\nb:2\nc 3\nd\t4\ne\f5\nf = 6\ng  :  7\nh\n i= =8\nj::9\n",
    "comments": "# comment\n! bang comment\n   # indented comment\nk=v # not a comment\n\n\t\n",
    "continuation": "long=one, \\\n    two, \\\n\tthree\nafter=x\n",
    "continuation_then_comment_char": "a=b\\\n#not-a-comment\n",
    "empty_continuation": "\\\n#comment\nz=1\n",
    "even_backslashes": "path=C:\\\\dir\\\\\nnext=1\n",
    "line_endings": "cr=1\rcrlf=2\r\nlf=3\ncont=a\\\r\n  b\n",
    "latin1": "caf\xe9=cr\xe8me\nnbsp=\xa0x\n\xa0lead=y\n",
    "not_line_breaks": "a=x\x85y\x0bz\x1c\n",
    "escapes": "k\\ e\\=y\\:=v\\n\\t\\r\\f\\\\\\q\nu=\\u0041\\u00e9\\uD83D\\uDE00\n",
    "empty_values": "a=\nb\nc:\n",
    "last_line_without_newline": "a=1\nb=2\\",
    "duplicate_key_last_wins": "a=1\na=2\n",
}


@pytest.mark.parametrize("name,expected", [
    ("separators", {"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7", "h": "", "i": "=8",
                    "j": ":9"}),
    ("comments", {"k": "v # not a comment"}),
    ("continuation", {"long": "one, two, three", "after": "x"}),
    ("continuation_then_comment_char", {"a": "b#not-a-comment"}),
    ("empty_continuation", {"z": "1"}),
    ("even_backslashes", {"path": "C:\\dir\\", "next": "1"}),
    ("line_endings", {"cr": "1", "crlf": "2", "lf": "3", "cont": "ab"}),
    ("latin1", {"caf\xe9": "cr\xe8me", "nbsp": "\xa0x", "\xa0lead": "y"}),
    ("not_line_breaks", {"a": "x\x85y\x0bz\x1c"}),
    ("escapes", {"k e=y:": "v\n\t\r\f\\q", "u": "A\xe9\U0001f600"}),
    ("empty_values", {"a": "", "b": "", "c": ""}),
    ("last_line_without_newline", {"a": "1", "b": "2"}),
    ("duplicate_key_last_wins", {"a": "2"}),
])
def test_parse(name, expected):
    assert props.parse_java_properties(RAW_TEXTS[name]) == expected


def test_form_feed_is_white_space_not_a_line_break():
    assert props.parse_java_properties("key\fvalue\n\f\fother=1\n") == {"key": "value", "other": "1"}


@pytest.mark.parametrize("text", ["a=\\u12\n", "a=\\uZZZZ\n", "a=\\u+1ab\n", "a=\\u1_ab\n", "a=\\u"])
def test_malformed_unicode_escape(text):
    with pytest.raises(PropertiesError, match="malformed"):
        props.parse_java_properties(text)


# --------------------------------------------------------------------------------------------------
# The JVM's own reading of the rendered files
# --------------------------------------------------------------------------------------------------

JAVA_DUMP = r"""
import java.io.FileInputStream;
import java.io.InputStream;
import java.util.Properties;

public class DumpProperties {
    public static void main(String[] args) throws Exception {
        for (String path : args) {
            Properties loaded = new Properties();
            try (InputStream in = new FileInputStream(path)) { loaded.load(in); }
            System.out.println("FILE " + path);
            for (String name : loaded.stringPropertyNames()) {
                System.out.println(quote(name) + "\t" + quote(loaded.getProperty(name)));
            }
        }
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) { out.append(String.format("\\u%04x", (int) c)); }
        return out.append('"').toString();
    }
}
"""

HAND_PICKED = [
    {"k": "\U0001f600", "\U0001f511": "\U0010ffff", "x": "a\U00010000b"},
    {"#hash": "#", "!bang": "!", " space": " ", "\ttab": "\t", "\fff": "\f"},
    {"a=b": "c=d", "a:b": "c:d", "k": "=", "k2": ":", "k3": " = "},
    {"nl": "\n", "cr": "\r", "crlf": "\r\n", "\n": "key is a newline", "\r\n": ""},
    {"bs": "\\", "bs2": "\\\\", "trail": "x\\", "\\": "\\u0041", "u": "\\uZZZZ"},
    {"latin": "caf\xe9\xff\xa0", "ctl": "\x00\x01\x1f\x7f\x85", "bom": "\ufeff", "ls": "\u2028\u2029"},
    {"empty": "", "spaces": "   ", "lead": "  x", "trail": "x  "},
    {"log.dirs": "/var/lib/kafka/a,/var/lib/kafka/b", "listeners": "CLIENT://:9092,INTERNAL://[::]:9091"},
]


def _java_cases(count=40):
    """``count`` property dicts drawn by hypothesis from the same strategy as the round-trip test."""
    drawn = []

    @settings(max_examples=count, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(KEYS, TEXT, min_size=1, max_size=5))
    def collect(data):
        drawn.append(data)

    collect()
    return drawn


@pytest.fixture(scope="module")
def java_reader(tmp_path_factory):
    """A function that loads property files with java.util.Properties and returns their dicts."""
    if not (shutil.which("java") and shutil.which("javac")):
        pytest.skip("java and javac are needed to check the files against java.util.Properties")
    classes = tmp_path_factory.mktemp("java")
    (classes / "DumpProperties.java").write_text(JAVA_DUMP)
    subprocess.run(["javac", "-d", str(classes), str(classes / "DumpProperties.java")], check=True, timeout=120)

    def read(paths):
        run = subprocess.run(["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", str(classes), "DumpProperties"] + [str(p) for p in paths],
                             check=True, capture_output=True, text=True, timeout=120)
        result = {}
        current = None
        for line in run.stdout.splitlines():
            if line.startswith("FILE "):
                current = result.setdefault(line[5:], {})
                continue
            key, value = line.split("\t")
            current[json.loads(key)] = json.loads(value)
        return [result[str(p)] for p in paths]

    return read


def test_java_reads_what_we_write(java_reader, tmp_path):
    cases = HAND_PICKED + _java_cases()
    paths = []
    for index, data in enumerate(cases):
        path = tmp_path / ("case%03d.properties" % index)
        path.write_bytes(props.to_java_properties(data, header="case %d \xe9\U0001f600" % index).encode("ascii"))
        paths.append(path)
    for data, seen in zip(cases, java_reader(paths)):
        assert seen == data


def test_we_read_what_java_reads(java_reader, tmp_path):
    paths = []
    for name, text in sorted(RAW_TEXTS.items()):
        path = tmp_path / (name + ".properties")
        path.write_bytes(text.encode("latin-1"))
        paths.append(path)
    for path, seen in zip(paths, java_reader(paths)):
        assert props.parse_java_properties(path.read_bytes().decode("latin-1")) == seen, path.name


# --------------------------------------------------------------------------------------------------
# quorum_voters
# --------------------------------------------------------------------------------------------------

def test_voters_sorted_by_numeric_id():
    controllers = [{"id": 10, "address": "c10", "port": 9093}, {"id": "2", "address": "c2", "port": "9093"},
                   {"id": 3, "address": "c3", "port": 9093}]
    assert props.quorum_voters(controllers) == "2@c2:9093,3@c3:9093,10@c10:9093"


def test_voters_address_before_host():
    controllers = [{"id": 1, "address": "10.0.0.1", "host": "c1", "port": 9093},
                   {"id": 2, "host": "c2", "port": 9094},
                   {"id": 3, "address": "", "host": "c3", "port": 9093}]
    assert props.quorum_voters(controllers) == "1@10.0.0.1:9093,2@c2:9094,3@c3:9093"


def test_voters_same_host_other_port_is_fine():
    assert props.quorum_voters([{"id": 1, "host": "h", "port": 9093}, {"id": 2, "host": "h", "port": 9094}]) == (
        "1@h:9093,2@h:9094")


def test_no_voters():
    assert props.quorum_voters([]) == ""


@pytest.mark.parametrize("controllers,message", [
    ([{"id": 1, "address": "c1", "port": 9093}, {"id": 1, "address": "c1b", "port": 9093}],
     "controller node id 1 is used by both c1:9093 and c1b:9093"),
    ([{"id": 2, "address": "c1", "port": 9093}, {"id": 1, "host": "c1", "port": 9093}],
     "controllers 1 and 2 share the endpoint c1:9093"),
    ([{"id": 5, "port": 9093}], "controller 5 has no address"),
    ([{"id": 5, "address": None, "host": "", "port": 9093}], "controller 5 has no address"),
    ([{"address": "c1", "port": 9093}], r"controllers\[0\].id must be an integer, got None"),
    ([{"id": "one", "address": "c1", "port": 9093}], r"controllers\[0\].id must be an integer, got 'one'"),
    ([{"id": -1, "address": "c1", "port": 9093}], r"controllers\[0\].id must not be negative"),
    ([{"id": 1, "address": "c1"}], r"controllers\[0\].port \(controller 1\) must be an integer, got None"),
    ([{"id": 1, "address": "c1", "port": 0}], "controller 1: port must be 1-65535, got 0"),
    ([{"id": 1, "address": "c1", "port": 9093}, "c2:9093"], r"controllers\[1\] must be a dict"),
    ("1@c1:9093", "controllers must be a list"),
])
def test_voter_errors(controllers, message):
    with pytest.raises(PropertiesError, match=message):
        props.quorum_voters(controllers)


# --------------------------------------------------------------------------------------------------
# kafka_process_properties
# --------------------------------------------------------------------------------------------------

CONTROLLERS = [{"id": 1, "address": "c1", "port": 9093}, {"id": 2, "address": "c2", "port": 9093},
               {"id": 3, "host": "c3", "port": 9093}]
VOTERS = "1@c1:9093,2@c2:9093,3@c3:9093"


def spec(**changes):
    base = {"roles": ["broker"], "node_id": 4, "log_dirs": ["/var/lib/kafka/data"], "controllers": CONTROLLERS}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def test_broker_structure():
    assert props.kafka_process_properties(spec()) == {
        "log.dirs": "/var/lib/kafka/data",
        "node.id": "4",
        "process.roles": "broker",
        "controller.quorum.voters": VOTERS,
    }


def test_controller_and_combined_roles_in_canonical_order():
    controller = props.kafka_process_properties(spec(roles=["controller"], node_id=2))
    assert controller["process.roles"] == "controller"
    assert controller["node.id"] == "2"
    combined = props.kafka_process_properties(spec(roles=["controller", "broker"], node_id="3"))
    assert combined["process.roles"] == "broker,controller"
    assert combined["node.id"] == "3"


def test_roles_as_a_single_string():
    assert props.kafka_process_properties(spec(roles="broker"))["process.roles"] == "broker"


def test_several_log_dirs_and_a_single_string():
    assert props.kafka_process_properties(spec(log_dirs=["/d1", "/d2"]))["log.dirs"] == "/d1,/d2"
    assert props.kafka_process_properties(spec(log_dirs="/only"))["log.dirs"] == "/only"


def test_rack_and_metadata_log_dir():
    result = props.kafka_process_properties(spec(rack="eu-west-1a", metadata_log_dir="/var/lib/kafka/meta"))
    assert result["broker.rack"] == "eu-west-1a"
    assert result["metadata.log.dir"] == "/var/lib/kafka/meta"
    for empty in (None, ""):
        result = props.kafka_process_properties(spec(rack=empty, metadata_log_dir=empty))
        assert "broker.rack" not in result
        assert "metadata.log.dir" not in result


def test_precedence_defaults_structure_security_overrides():
    result = props.kafka_process_properties(spec(
        defaults={"only.default": "d", "num.partitions": 3, "node.id": "99", "ssl.x": "default", "o": "default"},
        security={"ssl.x": "security", "o": "security", "log.dirs": "/from/security"},
        overrides={"o": "override", "num.partitions": 6},
    ))
    assert result["only.default"] == "d"
    assert result["node.id"] == "4", "the structure beats the defaults"
    assert result["log.dirs"] == "/from/security", "security beats the structure"
    assert result["ssl.x"] == "security", "security beats the defaults"
    assert result["o"] == "override", "overrides beat everything"
    assert result["num.partitions"] == "6"


def test_override_none_removes_keys_of_every_layer():
    result = props.kafka_process_properties(spec(
        rack="r1",
        defaults={"num.partitions": 3},
        security={"ssl.client.auth": "required"},
        overrides={"num.partitions": None, "broker.rack": None, "ssl.client.auth": None, "never.set": None},
    ))
    for key in ("num.partitions", "broker.rack", "ssl.client.auth", "never.set"):
        assert key not in result
    assert result["node.id"] == "4"


def test_none_in_defaults_or_security_sets_nothing():
    result = props.kafka_process_properties(spec(defaults={"log.retention.hours": None, "a": 1},
                                                 security={"sasl.enabled.mechanisms": None}))
    assert "log.retention.hours" not in result
    assert "sasl.enabled.mechanisms" not in result
    assert result["a"] == "1"


def test_values_are_rendered_as_kafka_text():
    result = props.kafka_process_properties(spec(
        defaults={"auto.create.topics.enable": False}, overrides={"b": True, "l": ["x", "y"], "i": 7}))
    assert result["auto.create.topics.enable"] == "false"
    assert (result["b"], result["l"], result["i"]) == ("true", "x,y", "7")
    assert all(isinstance(v, str) for v in result.values())


def test_zookeeper_mode():
    result = props.kafka_process_properties(spec(controllers=..., zookeeper_connect="zk1:2181,zk2:2181/kafka",
                                                 rack="r1"))
    assert result == {"log.dirs": "/var/lib/kafka/data", "broker.id": "4",
                      "zookeeper.connect": "zk1:2181,zk2:2181/kafka", "broker.rack": "r1"}
    without_roles = props.kafka_process_properties(spec(roles=..., controllers=..., zookeeper_connect="zk:2181"))
    assert "process.roles" not in without_roles
    assert "node.id" not in without_roles
    assert without_roles["broker.id"] == "4"


@pytest.mark.parametrize("changes,message", [
    ({"rack_id": "r1", "heap": 1}, "unknown keys in the process description: heap, rack_id"),
    ({"roles": ["broker", "zookeeper"]}, r"unknown process role\(s\) zookeeper; use broker and/or controller"),
    ({"roles": ["broker", "broker"]}, "process roles repeat: broker, broker"),
    ({"roles": ["broker", "controller"], "zookeeper_connect": "zk:2181"},
     "a ZooKeeper-mode broker cannot also be a KRaft controller"),
    ({"roles": []}, r"a KRaft process needs roles \(broker, controller or both\)"),
    ({"roles": ...}, "a KRaft process needs roles"),
    ({"node_id": ...}, "node_id must be an integer, got None"),
    ({"node_id": "four"}, "node_id must be an integer, got 'four'"),
    ({"node_id": True}, "node_id must be an integer, got True"),
    ({"node_id": 4.5}, "node_id must be an integer, got 4.5"),
    ({"node_id": -4}, "node_id must not be negative, got -4"),
    ({"log_dirs": ...}, "log_dirs must name at least one directory"),
    ({"log_dirs": []}, "log_dirs must name at least one directory"),
    ({"log_dirs": ["/ok", "data"]}, "log_dirs must be absolute paths: /ok, data"),
    ({"metadata_log_dir": "meta"}, "metadata_log_dir must be an absolute path: meta"),
    ({"controllers": ...}, r"a KRaft process needs the controller quorum \(controllers\)"),
    ({"controllers": []}, "a KRaft process needs the controller quorum"),
    ({"roles": ["controller"], "node_id": 9}, "node 9 is a controller but not one of the quorum voters"),
    ({"roles": ["broker", "controller"], "node_id": 9}, "node 9 is a controller but not one of the quorum voters"),
    ({"node_id": 2}, "broker node id 2 is also a controller's node id; node ids must be unique"),
    ({"controllers": [{"id": 1, "port": 9093}]}, "controller 1 has no address"),
    ({"controllers": [{"address": "c1", "port": 9093}]}, r"controllers\[0\].id must be an integer"),
    ({"overrides": {"bad key": 1, "ok.key": 2}}, "invalid property name\\(s\\): bad key"),
    ({"defaults": {"caf\xe9": 1}}, "invalid property name"),
    ({"security": {"x\n": 1}}, "invalid property name"),
    ({"overrides": {"": 1}}, "invalid property name"),
])
def test_process_errors(changes, message):
    with pytest.raises(PropertiesError, match=message):
        props.kafka_process_properties(spec(**changes))


@pytest.mark.parametrize("value", [None, ["broker"], "roles: broker"])
def test_process_description_must_be_a_dict(value):
    with pytest.raises(PropertiesError, match="must be a dict"):
        props.kafka_process_properties(value)


def test_a_controller_id_is_fine_for_a_combined_process():
    result = props.kafka_process_properties(spec(roles=["broker", "controller"], node_id=1))
    assert result["node.id"] == "1"


def test_merged_properties_render_and_parse_back():
    result = props.kafka_process_properties(spec(overrides={"listeners": "CLIENT://:9092", "x.y": "a b"}))
    assert props.parse_java_properties(props.to_java_properties(result)) == result


# --------------------------------------------------------------------------------------------------
# Cluster ids
# --------------------------------------------------------------------------------------------------

def _text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


GOOD_ID = _text(bytes(range(1, 17)))


class FakeRandom:
    """A random source that hands out prepared byte strings and records the sizes asked for."""

    def __init__(self, *draws):
        self.draws = list(draws)
        self.sizes = []

    def __call__(self, size):
        self.sizes.append(size)
        return self.draws.pop(0)


def test_generated_ids_are_valid():
    for _attempt in range(50):
        value = props.generate_cluster_id()
        assert len(value) == 22
        assert props.valid_cluster_id(value)
        assert not value.startswith("-")
        assert len(base64.urlsafe_b64decode(value + "==")) == 16


def test_generation_draws_again_after_a_dash_or_all_zeros():
    dash = b"\xf8" + bytes(range(15))
    assert _text(dash).startswith("-")
    zeros = bytes(16)
    good = bytes(range(100, 116))
    source = FakeRandom(dash, zeros, good)
    assert props.generate_cluster_id(random_bytes=source) == _text(good)
    assert source.sizes == [16, 16, 16]
    assert source.draws == []


def test_generation_uses_the_first_good_draw():
    source = FakeRandom(bytes(range(1, 17)), b"\xf8" * 16)
    assert props.generate_cluster_id(source) == GOOD_ID
    assert source.sizes == [16]


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=16))
def test_any_16_bytes(raw):
    text = _text(raw)
    assert len(text) == 22
    assert props.valid_cluster_id(text) == (any(raw) and not text.startswith("-"))
    if props.valid_cluster_id(text):
        assert props.generate_cluster_id(FakeRandom(raw)) == text


@pytest.mark.parametrize("value", [
    GOOD_ID[:-1],                      # 21 characters
    GOOD_ID + "A",                     # 23 characters
    GOOD_ID + "==",                    # padded
    "A" * 22,                          # the zero uuid
    "-" + GOOD_ID[1:],                 # looks like a command line option
    GOOD_ID[:10] + "+" + GOOD_ID[11:],  # standard, not URL-safe, alphabet
    GOOD_ID[:10] + "/" + GOOD_ID[11:],
    GOOD_ID[:10] + "." + GOOD_ID[11:],
    GOOD_ID[:10] + " " + GOOD_ID[11:],
    GOOD_ID + "\n",                    # trailing newline
    GOOD_ID[:-1] + "B",                # non-canonical: Kafka would print ...A
    "",
    None,
    12345,
    GOOD_ID.encode("ascii"),
])
def test_invalid_cluster_ids(value):
    assert props.valid_cluster_id(value) is False


def test_valid_cluster_ids():
    assert GOOD_ID.endswith("A"), "the non-canonical case above relies on this"
    assert props.valid_cluster_id(GOOD_ID) is True
    assert props.valid_cluster_id("_" * 21 + "w") is True  # 0xff * 16
    assert props.valid_cluster_id(_text(b"\xfb" + bytes(15))) is False  # '-' start
    assert props.valid_cluster_id(_text(b"\xfc" + bytes(15))) is True  # '_' start


# --------------------------------------------------------------------------------------------------
# ZooKeeper to KRaft migration
# --------------------------------------------------------------------------------------------------

def test_zookeeper_mode_broker_pins_the_inter_broker_protocol():
    result = props.kafka_process_properties(spec(zookeeper_connect="zk:2181/kafka", inter_broker_protocol="3.9"))
    assert result["inter.broker.protocol.version"] == "3.9"
    assert "zookeeper.metadata.migration.enable" not in result


def test_broker_in_migration_mode_knows_zookeeper_and_the_quorum():
    result = props.kafka_process_properties(spec(zookeeper_connect="zk:2181/kafka", migration=True,
                                                 inter_broker_protocol="3.9", node_id=101))
    assert result == {"log.dirs": "/var/lib/kafka/data", "broker.id": "101", "zookeeper.connect": "zk:2181/kafka",
                      "zookeeper.metadata.migration.enable": "true", "controller.quorum.voters": VOTERS,
                      "inter.broker.protocol.version": "3.9"}


def test_controller_in_migration_mode():
    result = props.kafka_process_properties(spec(roles=["controller"], node_id=2, zookeeper_connect="zk:2181/kafka",
                                                 migration=True))
    assert result["process.roles"] == "controller" and result["node.id"] == "2"
    assert result["zookeeper.connect"] == "zk:2181/kafka"
    assert result["zookeeper.metadata.migration.enable"] == "true"
    assert "broker.id" not in result


@pytest.mark.parametrize("changes,message", [
    ({"roles": ["controller"], "node_id": 2, "zookeeper_connect": "zk:2181"},
     "a KRaft controller connects to ZooKeeper only to migrate it"),
    ({"migration": True}, "migration needs zookeeper_connect"),
    ({"zookeeper_connect": "zk:2181", "migration": True, "controllers": []},
     "a broker in migration mode needs the controller quorum"),
    ({"zookeeper_connect": "zk:2181", "migration": True, "node_id": 2}, "broker id 2 is also a controller's node id"),
])
def test_migration_errors(changes, message):
    with pytest.raises(props.PropertiesError, match=message):
        props.kafka_process_properties(spec(**changes))
