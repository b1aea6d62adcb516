# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""How a module reaches a Kafka cluster: the client connection options every cluster module shares.

Two ways to describe a connection, usable together:

* **client options** - ``bootstrap_servers``, ``security_protocol``, ``sasl_*``, ``ssl_*``,
  ``request_timeout`` - for any cluster (one this collection deployed, Amazon MSK, Confluent
  Cloud, Strimzi). Each falls back to a ``KAFKA_*`` environment variable (see :data:`ENVIRONMENT`),
  which is how an AWX credential hands them over;
* the **platform description** - ``security`` (the ``platform_security`` variable) and
  ``identity`` - read as a client reads it (see ``security.normalize(..., client=True)``).

With ``security`` given, the client options that are set explicitly win over what the
description derives, and the environment is not read for them (a run of the roles must not pick
up a credential meant for another cluster). Only secret leaves are hidden: the options marked
``no_log`` and the secrets found in ``security`` and ``identity`` (:func:`secret_leaves`), so
ports, listener names and protocols stay readable in results and errors.

The pure functions here take the parameters and the environment and return plain data; the
:class:`KafkaModule` subclass of ``AnsibleModule`` wires them into a module.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkaops.platform.plugins.module_utils import security as sec

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
DEFAULT_REQUEST_TIMEOUT = 30

# option -> environment variable read when the option is not given
ENVIRONMENT = {
    "bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "security_protocol": "KAFKA_SECURITY_PROTOCOL",
    "sasl_mechanism": "KAFKA_SASL_MECHANISM",
    "sasl_username": "KAFKA_SASL_USERNAME",
    "sasl_password": "KAFKA_SASL_PASSWORD",
    "ssl_ca": "KAFKA_SSL_CA",
    "ssl_cert": "KAFKA_SSL_CERT",
    "ssl_key": "KAFKA_SSL_KEY",
    "ssl_key_password": "KAFKA_SSL_KEY_PASSWORD",
    "ssl_check_hostname": "KAFKA_SSL_CHECK_HOSTNAME",
    "request_timeout": "KAFKA_REQUEST_TIMEOUT",
}
CLIENT_OPTIONS = ("security_protocol", "sasl_mechanism", "sasl_username", "sasl_password", "ssl_ca", "ssl_cert",
                  "ssl_key", "ssl_key_password", "ssl_check_hostname")
SECRET_OPTIONS = ("sasl_password", "ssl_key", "ssl_key_password")
# keys of the platform description (and of an identity mapping) whose string values are secrets
SECRET_KEYS = frozenset(("password", "key_password", "client_secret", "key", "passphrase"))

CONNECTION_ARGUMENT_SPEC = dict(
    bootstrap_servers=dict(type="list", elements="str"),
    security_protocol=dict(type="str", choices=list(PROTOCOLS)),
    sasl_mechanism=dict(type="str", choices=list(MECHANISMS)),
    sasl_username=dict(type="str"),
    sasl_password=dict(type="str", no_log=True),
    ssl_ca=dict(type="str"),
    ssl_cert=dict(type="str"),
    ssl_key=dict(type="str", no_log=True),
    ssl_key_password=dict(type="str", no_log=True),
    ssl_check_hostname=dict(type="bool"),
    request_timeout=dict(type="int"),
    # the platform description: not no_log as a whole (that would mask its ports and names
    # everywhere); its secret leaves are added to the module's no-log values instead
    security=dict(type="dict", default={}, no_log=False),
    identity=dict(type="str"),
    listener=dict(type="str"),
)

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class ConnectionOptionError(ValueError):
    """Connection options that cannot work, with a message naming the option."""


def secret_leaves(value: Any, keys: Iterable[str] = SECRET_KEYS) -> Set[str]:
    """Every non-empty string held under a secret key (:data:`SECRET_KEYS`) anywhere in ``value``.

    Walks the raw value, before any validation, so even a description that is refused has its
    secrets hidden from the error that says why."""
    wanted = frozenset(keys)
    found: Set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, child in item.items():
                if key in wanted and isinstance(child, str) and child:
                    found.add(child)
                else:
                    stack.append(child)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def _from_environment(option: str, raw: str) -> Any:
    """The value of ``option`` read from its environment variable's text."""
    name = ENVIRONMENT[option]
    if option == "bootstrap_servers":
        servers = [part.strip() for part in raw.split(",") if part.strip()]
        if not servers:
            raise ConnectionOptionError("%s is set but names no server (host:port[,host:port...])" % name)
        return servers
    if option == "ssl_check_hostname":
        if raw.strip().lower() in _TRUE:
            return True
        if raw.strip().lower() in _FALSE:
            return False
        raise ConnectionOptionError("%s must be true or false, got %r" % (name, raw))
    if option == "request_timeout":
        try:
            return int(raw.strip())
        except ValueError:
            raise ConnectionOptionError("%s must be a whole number of seconds, got %r" % (name, raw)) from None
    if option == "security_protocol" and raw.strip().upper() not in PROTOCOLS:
        raise ConnectionOptionError("%s must be one of %s, got %r" % (name, ", ".join(PROTOCOLS), raw))
    if option == "sasl_mechanism" and raw.strip().upper() not in MECHANISMS:
        raise ConnectionOptionError("%s must be one of %s, got %r" % (name, ", ".join(MECHANISMS), raw))
    if option in ("security_protocol", "sasl_mechanism"):
        return raw.strip().upper()
    return raw


def resolve_options(params: Mapping[str, Any], environ: Mapping[str, str], require_bootstrap: bool = True) -> Dict[str, Any]:
    """The connection options to use: the parameters, with the environment filling the gaps.

    Without ``security`` every option not given falls back to its ``KAFKA_*`` variable; with
    it, only ``bootstrap_servers`` and ``request_timeout`` do. ``request_timeout`` defaults to
    :data:`DEFAULT_REQUEST_TIMEOUT`. Raises :class:`ConnectionOptionError` when no bootstrap
    server is known (and ``require_bootstrap``) or a variable holds an unusable value."""
    described = bool(params.get("security"))
    options = {name: params.get(name) for name in ENVIRONMENT}
    for name, variable in ENVIRONMENT.items():
        if options[name] is not None or (described and name in CLIENT_OPTIONS):
            continue
        if environ.get(variable, "") != "":
            options[name] = _from_environment(name, environ[variable])
    if not options["bootstrap_servers"] and require_bootstrap:
        raise ConnectionOptionError("no bootstrap servers: set bootstrap_servers (host:port list) or %s"
                                    % ENVIRONMENT["bootstrap_servers"])
    timeout = DEFAULT_REQUEST_TIMEOUT if options["request_timeout"] is None else int(options["request_timeout"])
    if timeout < 1:
        raise ConnectionOptionError("request_timeout must be at least 1 second, got %d" % timeout)
    options["request_timeout"] = timeout
    return options


def _protocol(options: Mapping[str, Any]) -> str:
    """The protocol the options ask for, inferred from what they hold when not given."""
    if options["security_protocol"]:
        return options["security_protocol"]
    sasl = any(options[name] is not None for name in ("sasl_mechanism", "sasl_username", "sasl_password"))
    tls = any(options[name] is not None for name in ("ssl_ca", "ssl_cert", "ssl_key", "ssl_key_password"))
    return {(False, False): "PLAINTEXT", (False, True): "SSL", (True, False): "SASL_PLAINTEXT",
            (True, True): "SASL_SSL"}[(sasl, tls)]


def _check_options(options: Mapping[str, Any], protocol: str, described: bool) -> None:
    """Refuse option sets that cannot make a working connection, naming the options."""
    sasl_given = [n for n in ("sasl_mechanism", "sasl_username", "sasl_password") if options[n] is not None]
    tls_given = [n for n in ("ssl_ca", "ssl_cert", "ssl_key", "ssl_key_password", "ssl_check_hostname")
                 if options[n] is not None]
    if sasl_given and not protocol.startswith("SASL_"):
        raise ConnectionOptionError("%s given, but the security protocol is %s: use SASL_PLAINTEXT or SASL_SSL"
                                    % (", ".join(sasl_given), protocol))
    if tls_given and protocol not in ("SSL", "SASL_SSL"):
        raise ConnectionOptionError("%s given, but the security protocol is %s: use SSL or SASL_SSL"
                                    % (", ".join(tls_given), protocol))
    if (options["sasl_username"] is None) != (options["sasl_password"] is None):
        raise ConnectionOptionError("sasl_username and sasl_password go together")
    if protocol.startswith("SASL_") and not described:
        missing = [n for n in ("sasl_mechanism", "sasl_username", "sasl_password") if options[n] is None]
        if missing:
            raise ConnectionOptionError("security protocol %s needs %s (or %s)"
                                        % (protocol, ", ".join(missing), ", ".join(ENVIRONMENT[n] for n in missing)))
    if (options["ssl_key"] is not None or options["ssl_key_password"] is not None) and options["ssl_cert"] is None:
        raise ConnectionOptionError("ssl_key and ssl_key_password need ssl_cert (the client certificate)")


def _pem_or_path(option: str, value: str, write: Callable[[str, str], str]) -> str:
    """A file path for ``value``: the path itself, or a private file ``write`` creates for PEM text."""
    if "-----BEGIN" in value:
        return write(option, value)
    if not os.path.isfile(value):
        raise ConnectionOptionError("%s: no file %s on the host that runs the module (give a path or the PEM text)"
                                    % (option, value))
    return value


def client_settings(options: Mapping[str, Any], base: Optional[Mapping[str, Any]],
                    write: Callable[[str, str], str]) -> Dict[str, Any]:
    """kafka-python keyword arguments: ``base`` (what the platform description derives, ``None``
    without one) with the explicit client options laid over it."""
    described = base is not None
    config: Dict[str, Any] = dict(base or {})
    protocol = options["security_protocol"] or (config.get("security_protocol") if described else None) or _protocol(options)
    _check_options(options, protocol, described)
    config["security_protocol"] = protocol
    if options["sasl_mechanism"] is not None:
        config["sasl_mechanism"] = options["sasl_mechanism"]
    if options["sasl_username"] is not None:
        config["sasl_plain_username"] = options["sasl_username"]
        config["sasl_plain_password"] = options["sasl_password"]
    if protocol.startswith("SASL_") and not config.get("sasl_mechanism"):
        raise ConnectionOptionError("security protocol %s needs sasl_mechanism (%s)" % (protocol, ", ".join(MECHANISMS)))
    if not protocol.startswith("SASL_"):
        for key in ("sasl_mechanism", "sasl_plain_username", "sasl_plain_password", "sasl_kerberos_service_name"):
            config.pop(key, None)
    if protocol in ("SSL", "SASL_SSL"):
        for option, key in (("ssl_ca", "ssl_cafile"), ("ssl_cert", "ssl_certfile"), ("ssl_key", "ssl_keyfile")):
            if options[option] is not None:
                config[key] = _pem_or_path(option, options[option], write)
        if options["ssl_key_password"] is not None:
            config["ssl_password"] = options["ssl_key_password"]
        if options["ssl_check_hostname"] is not None:
            config["ssl_check_hostname"] = options["ssl_check_hostname"]
    else:
        for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_password", "ssl_check_hostname"):
            config.pop(key, None)
    return config


def supplied_parts(options: Mapping[str, Any]) -> Tuple[str, ...]:
    """Which parts of a platform description the explicit client options replace."""
    parts = []
    if options["sasl_username"] is not None:
        parts.append("sasl")
    if options["ssl_ca"] is not None:
        parts.append("ca")
    if options["ssl_cert"] is not None:
        parts.append("certificate")
    return tuple(parts)


class PemFiles:
    """Private files (0600, in a 0700 folder removed when the process ends) for PEM text given inline."""

    def __init__(self) -> None:
        self._folder: Optional[str] = None

    def __call__(self, option: str, text: str) -> str:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="kafkaops-client-")
            atexit.register(shutil.rmtree, self._folder, True)
        path = os.path.join(self._folder, option + ".pem")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
        return path


def kafka_python_config(options: Mapping[str, Any], security: Any, identity: Optional[str], listener: Optional[str],
                        write: Callable[[str, str], str]) -> Dict[str, Any]:
    """kafka-python keyword arguments (security settings only) for resolved ``options`` and an
    optional platform description. Raises :class:`ConnectionOptionError` or ``SecurityConfigError``."""
    base = None
    if security:
        base = sec.kafka_python_client_config(security, listener=listener, identity=identity,
                                              supplied=supplied_parts(options))
    elif identity is not None or listener is not None:
        named = "identity" if identity is not None else "listener"
        raise ConnectionOptionError("%s names a part of the platform description, but security is not given" % named)
    return client_settings(options, base, write)


def secret_values(params: Mapping[str, Any]) -> List[str]:
    """The secrets among the parameters that the argument spec does not already hide."""
    found = secret_leaves(params.get("security"))
    identity = params.get("identity")
    if isinstance(identity, Mapping):
        found |= secret_leaves(identity)
    return sorted(found)


class KafkaModule(AnsibleModule):
    """``AnsibleModule`` for the cluster modules: hides the secrets of ``security`` from the moment
    the parameters are read (so a refused parameter's error and the invocation log show none),
    then resolves the connection (:attr:`connection`, the environment filling gaps) and fails
    clearly when it cannot work."""

    def __init__(self, argument_spec: Dict[str, Any], offline: Optional[Callable[[Mapping[str, Any]], bool]] = None,
                 **kwargs: Any) -> None:
        """``offline(params)`` tells when the module will not connect (no bootstrap server needed)."""
        spec = dict(CONNECTION_ARGUMENT_SPEC)
        spec.update(argument_spec)
        super().__init__(argument_spec=spec, **kwargs)
        try:
            options = resolve_options(self.params, os.environ, require_bootstrap=not (offline and offline(self.params)))
        except ConnectionOptionError as exc:
            self.fail_json(msg=str(exc))
        self.no_log_values.update(value for name, value in options.items()
                                  if name in SECRET_OPTIONS and isinstance(value, str) and value)
        self.params.update(options)

    def _load_params(self) -> None:
        super()._load_params()
        self.no_log_values.update(secret_values(self.params))
