# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""plugins/module_utils/rest.py through its real transport (Ansible's open_url) against an HTTP
server on the loopback address: HTTP basic auth goes with the first request - Kafka Connect's
basic auth extension answers 401 and never sends a challenge to retry after - and the 401 becomes
a RestError with the server's words and no password."""

from __future__ import annotations

import base64
import http.server
import json
import threading

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import rest

USER, PASSWORD = "kafkaops", "p\u00e4ss:w\u00f6rd 1"  # UTF-8, as Connect decodes the header


class _Connect(http.server.BaseHTTPRequestHandler):
    """Answers GET / as a worker with the basic auth extension would."""

    seen: list = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        header = self.headers.get("Authorization")
        self.seen.append(header)
        expected = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode("utf-8")).decode()
        if header == expected:
            status, body, kind = 200, json.dumps({"version": "4.3.1"}).encode(), "application/json"
        else:
            status, body, kind = 401, b"User cannot access the resource.", "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def worker():
    _Connect.seen = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Connect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_basic_auth_goes_with_the_first_request(worker):
    client = rest.RestClient(worker, url_username=USER, url_password=PASSWORD, request_timeout=5)
    assert client.call("GET", "/") == (200, {"version": "4.3.1"})
    assert len(_Connect.seen) == 1 and _Connect.seen[0].startswith("Basic ")


@pytest.mark.parametrize("credentials", [{}, {"url_username": USER, "url_password": "wrong"}])
def test_a_refused_request_is_a_rest_error_without_the_password(worker, credentials):
    client = rest.RestClient(worker, request_timeout=5, **credentials)
    with pytest.raises(rest.RestError) as caught:
        client.call("GET", "/")
    assert caught.value.status == 401
    assert str(caught.value) == "GET /: HTTP 401: User cannot access the resource."
    # one request: without a user nothing is sent, with one the header goes first time
    assert len(_Connect.seen) == 1
    assert (_Connect.seen[0] is None) == (not credentials)
