# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The one JSON-over-HTTP client of the platform's REST services (Kafka Connect, Schema Registry,
ksqlDB). Requests go through Ansible's ``open_url`` (TLS verification on by default, a CA bundle,
client certificates, HTTP basic auth), or through any ``request`` callable with the signature of
:func:`open_url_request`, which the unit tests use. Error bodies of the form
``{"error_code", "message"}`` (all three services answer so) become :class:`RestError` with the
service's own message, and a service-specific ``retry`` predicate may ask for a retry with back-off.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable
from urllib.parse import quote

REST_ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    url=dict(type="str", required=True),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    client_cert=dict(type="path"),
    client_key=dict(type="path", no_log=False),
    url_username=dict(type="str"),
    url_password=dict(type="str", no_log=True),
    request_timeout=dict(type="float", default=30.0),
)

Request = Callable[..., Any]


class RestError(Exception):
    """A request the service refused or could not answer; ``status`` is the HTTP status (0 without one)."""

    def __init__(self, message: str, status: int = 0, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def run_module(module: Any, step: Callable[[], dict[str, Any]], task_error: type[Exception]) -> None:
    """End a REST module: exit with ``step()``'s result, or fail with the message of a ``task_error``
    (the runner's own: with its ``changed`` and any ``details``) or of a :class:`RestError` (with the
    HTTP ``status``)."""
    try:
        result = step()
    except task_error as exc:
        module.fail_json(msg=str(exc), changed=getattr(exc, "changed", False), **getattr(exc, "details", {}))
    except RestError as exc:
        module.fail_json(msg=str(exc), status=exc.status)
    module.exit_json(**result)


def open_url_request(url: str, method: str, data: bytes | None, headers: dict[str, str],
                     **options: Any) -> tuple[int, bytes]:
    """One HTTP request through Ansible's open_url; (status, body) of any answer, errors included."""
    from urllib.error import HTTPError

    from ansible.module_utils.urls import open_url

    try:
        response = open_url(url, method=method, data=data, headers=headers, **options)
        return response.getcode(), response.read()
    except HTTPError as exc:
        return exc.code, exc.read() or b""


def transport() -> Request:
    """The transport clients use when given none (looked up at call time, so tests can replace it)."""
    return open_url_request


class RestClient:
    """Requests to one service at ``url``. ``retry(status, parsed)`` says whether an answer is
    worth another try; tries go on with back-off (0.5 s doubling to 5 s) for ``retry_timeout`` s."""

    content_type = "application/json"

    def __init__(self, url: str, validate_certs: bool = True, ca_path: str | None = None,
                 client_cert: str | None = None, client_key: str | None = None, url_username: str | None = None,
                 url_password: str | None = None, request_timeout: float = 30.0, retry_timeout: float = 0.0,
                 request: Request | None = None, sleep: Callable[[float], None] | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.base = url.rstrip("/")
        self.options: dict[str, Any] = dict(validate_certs=validate_certs, ca_path=ca_path, client_cert=client_cert,
                                            client_key=client_key, url_username=url_username,
                                            url_password=url_password, timeout=request_timeout,
                                            force_basic_auth=url_username is not None)
        self.retry_timeout = retry_timeout
        self.request = request or transport()
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic

    @classmethod
    def rest_options(cls, params: dict[str, Any]) -> dict[str, Any]:
        """The constructor's arguments from a module's REST_ARGUMENT_SPEC options."""
        return {name: params[name] for name in REST_ARGUMENT_SPEC}

    def retry(self, status: int, parsed: Any) -> bool:
        return False

    def call(self, method: str, path: str, body: Any = None, allow: tuple[int, ...] = ()) -> tuple[int, Any]:
        """(status, parsed JSON or None); a status >= 400 not in ``allow`` raises RestError."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": self.content_type}
        if data is not None:
            headers["Content-Type"] = self.content_type
        deadline = self.clock() + self.retry_timeout
        delay = 0.5
        while True:
            status, raw = self._send(method, path, data, headers)
            parsed = parse_json(raw)
            if not self.retry(status, parsed) or self.clock() + delay > deadline:
                break
            self.sleep(delay)
            delay = min(delay * 2, 5.0)
        if status >= 400 and status not in allow:
            raise RestError("%s %s: HTTP %d: %s" % (method, path, status, error_text(parsed, raw)), status, parsed)
        return status, parsed

    def _send(self, method: str, path: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            return self.request(self.base + path, method, data, headers, **self.options)
        except RestError:
            raise
        except Exception as exc:  # the transport's own errors: refused, TLS, timeouts
            raise RestError("%s %s%s: %s" % (method, self.base, path, exc)) from exc


def segment(value: str) -> str:
    """``value`` as one URL path segment."""
    return quote(value, safe="")


def parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def error_text(parsed: Any, raw: bytes) -> str:
    """The service's own message from an error body (``{"error_code", "message"}``), else the body."""
    if isinstance(parsed, dict) and parsed.get("message"):
        return str(parsed["message"])
    text = raw.decode("utf-8", "replace").strip()
    return text[:500] if text else "(no body)"
