#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: ksqldb_statement
short_description: Create, replace and drop ksqlDB streams and tables idempotently
version_added: 0.2.0
description:
  - Applies one C(CREATE STREAM) or C(CREATE TABLE) statement (also C(CREATE ... AS SELECT) and
    C(CREATE SOURCE ...)) through the ksqlDB REST API, or drops the stream or table.
  - Whether anything changes is decided by the server's own record, the statement
    C(DESCRIBE <name> EXTENDED) returns, compared with O(statement) by the rule under O(statement).
    A second run with the same statement sends nothing.
  - An object that exists with another statement is replaced with C(CREATE OR REPLACE) only with
    O(replace=true); otherwise the task fails and shows both statements.
  - With O(state=absent), the queries writing into the object (the C(CREATE ... AS SELECT) query, any
    C(INSERT INTO)) are terminated first (O(terminate_queries)), then it is dropped. Queries
    reading from it belong to other streams or tables; while there are any the task fails and
    names them, changing nothing.
  - Every request goes to O(url); the statements run on every server of the ksqlDB cluster through
    its command topic.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.rest
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - The stream or table. An unquoted name (letters, digits and underscores, not starting with a
        digit) is upper-cased, as ksqlDB does; a name in backquotes (V(`Orders`)) is taken as written.
    type: str
    required: true
  statement:
    description:
      - The whole C(CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS] <name> ...) statement,
        one statement, creating O(name). A final C(;) is optional. Required with O(state=present).
      - "It is compared with the statement ksqlDB stored for O(name) this way: whitespace and
        comments only separate words; one final C(;) does not count; unquoted words (keywords and
        names) are compared upper-cased, as ksqlDB reads them, while C('string literals') and
        backquoted names are compared exactly; C(OR REPLACE) and C(IF NOT EXISTS) do not count;
        the properties of the C(WITH) clause are compared in any order, and only those O(statement)
        sets (ksqlDB adds defaults of its own, such as C(KEY_FORMAT), C(PARTITIONS) or C(REPLICAS))."
      - ksqlDB stores the statement as it rewrote it. Beyond the C(WITH) properties it adds, it spells
        types its way (C(INTEGER) for C(INT)) and, for C(CREATE ... AS SELECT), reformats the query
        (aliases, parentheses, C(EMIT CHANGES)). Write the statement as C(DESCRIBE <name> EXTENDED)
        shows it, or such a rewrite reads as another statement (a failure, or with O(replace) a
        replacement on every run).
    type: str
  state:
    description: V(present) creates or replaces the stream or table; V(absent) drops it.
    type: str
    choices: [present, absent]
    default: present
  replace:
    description:
      - When the object exists with another statement, apply O(statement) with C(CREATE OR REPLACE).
        ksqlDB accepts only changes its running queries can follow (new columns at the end, another
        filter) and refuses the rest with its reason.
      - Without it such a task fails, and the message shows the stored and the wanted statement.
    type: bool
    default: false
  delete_topic:
    description: With O(state=absent), delete the object's Kafka topic too (C(DROP ... DELETE TOPIC)).
    type: bool
    default: false
  terminate_queries:
    description:
      - With O(state=absent), terminate the queries writing into the object before dropping it.
        With V(false), the task fails when there are any, and names them.
    type: bool
    default: true
  properties:
    description:
      - Properties the statements run with (the request's C(streamsProperties)), for example
        C(ksql.streams.auto.offset.reset). Values are sent as strings.
    type: dict
attributes:
  check_mode:
    support: full
    details: Reads the server's streams, tables and descriptions; reports the statements it would send and sends none.
  diff_mode:
    support: full
    details: The stored statement before, and the statement sent (or, unchanged, the stored one) after; empty for an absent object.
  platform:
    platforms: posix
notes:
  - Tested against a fake that follows ksqlDB's documented REST API (a ksqlDB server cannot be
    installed where the collection is developed); the fake stores statements as sent, where the
    real server stores them rewritten (see O(statement)).
seealso:
  - name: ksqlDB REST API, the /ksql endpoint
    description: Requests, result objects and errors this module reads.
    link: https://docs.ksqldb.io/en/latest/developer-guide/ksqldb-rest-api/ksql-endpoint/
"""

EXAMPLES = r"""
- name: The orders topic as a stream
  kafkaops.platform.ksqldb_statement:
    url: https://ksqldb1:8088
    ca_path: /etc/kafka/tls/ca.crt
    name: orders
    statement: >-
      CREATE STREAM ORDERS (ID BIGINT KEY, CUSTOMER STRING, AMOUNT DOUBLE)
      WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');
  delegate_to: localhost

- name: Large orders, computed from the start of the topic; replaced when the query changes
  kafkaops.platform.ksqldb_statement:
    url: https://ksqldb1:8088
    name: large_orders
    statement: >-
      CREATE STREAM LARGE_ORDERS AS SELECT * FROM ORDERS WHERE AMOUNT > 1000 EMIT CHANGES;
    replace: true
    properties:
      ksql.streams.auto.offset.reset: earliest

- name: A table with a case-sensitive name
  kafkaops.platform.ksqldb_statement:
    url: https://ksqldb1:8088
    name: "`Customers`"
    statement: >-
      CREATE TABLE `Customers` (ID BIGINT PRIMARY KEY, NAME STRING)
      WITH (KAFKA_TOPIC='customers', VALUE_FORMAT='JSON');

- name: Drop the stream, its query and its topic
  kafkaops.platform.ksqldb_statement:
    url: https://ksqldb1:8088
    name: large_orders
    state: absent
    delete_topic: true
"""

RETURN = r"""
name:
  description: The name as ksqlDB stores it (an unquoted name upper-cased).
  returned: always
  type: str
  sample: LARGE_ORDERS
type:
  description:
    - V(STREAM) or V(TABLE); null when there is no such object.
    - With O(state=absent), the dropped object's.
  returned: always
  type: str
  sample: STREAM
statement:
  description:
    - The statement ksqlDB stored for the object (in check mode, after a change, the statement that would be sent).
    - With O(state=absent), the dropped object's; null when there was none.
  returned: always
  type: str
  sample: "CREATE STREAM LARGE_ORDERS WITH (KAFKA_TOPIC='LARGE_ORDERS', PARTITIONS=1, REPLICAS=1) AS SELECT * FROM ORDERS ..."
queries:
  description: Ids of the queries writing into the object (with O(state=absent), those terminated or to terminate).
  returned: always
  type: list
  elements: str
  sample: [CSAS_LARGE_ORDERS_3]
actions:
  description: What was done (or, in check mode, would be), in order.
  returned: always
  type: list
  elements: str
  sample: [terminated CSAS_LARGE_ORDERS_3, dropped, deleted topic LARGE_ORDERS]
server:
  description: The server's C(KsqlServerInfo) (C(GET /info)).
  returned: always
  type: dict
  sample: {version: 0.29.0, kafkaClusterId: j3tOi6E_RtO_TMH3gBmK7A, ksqlServiceId: default_, serverStatus: RUNNING}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkaops.platform.plugins.module_utils._ksqldb_runner import KsqlError, run
from ansible_collections.kafkaops.platform.plugins.module_utils.ksqldb import KsqlClient
from ansible_collections.kafkaops.platform.plugins.module_utils.rest import REST_ARGUMENT_SPEC, run_module


def argument_spec() -> dict:
    spec = dict(REST_ARGUMENT_SPEC)
    spec.update(
        name=dict(type="str", required=True),
        statement=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        replace=dict(type="bool", default=False),
        delete_topic=dict(type="bool", default=False),
        terminate_queries=dict(type="bool", default=True),
        properties=dict(type="dict"),
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("state", "present", ("statement",))])
    client = KsqlClient(**KsqlClient.rest_options(module.params))
    run_module(module, lambda: run(module, client), KsqlError)


if __name__ == "__main__":
    main()
