# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""PKCS12 key and trust stores for the REST listeners of pods (Connect's Jetty and Confluent's
rest-utils read Java key stores, not Kafka's PEM stores), made on the control node from a pod's PEM
key store and the PEM trust bundle: no keytool or openssl is needed in the image.

A PKCS12 file is different every time it is written (random salts), so a store is only made when
the one the pod already has does not hold the same key and certificates under the same password:
a re-run keeps the Secret, and the pods, as they are.
"""
from __future__ import annotations

import base64
import binascii
from typing import Any, List, Optional, Tuple

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - the control node needs it for community.crypto as well
    HAS_CRYPTOGRAPHY = False

# Java 11.0.12 and later read PBES2 (AES-256, SHA-256 MAC); the older PBE algorithms are what
# cryptography calls legacy
_KDF_ROUNDS = 10000


class TlsMaterialError(ValueError):
    """A PEM key store cannot be turned into a PKCS12 one."""


def _pem_bytes(pem: Any, what: str) -> bytes:
    """PEM text (a string or bytes) as bytes."""
    if isinstance(pem, str):
        return pem.encode()
    if isinstance(pem, (bytes, bytearray)):
        return bytes(pem)
    raise TlsMaterialError("%s must be PEM text, got %s" % (what, "null" if pem is None else type(pem).__name__))


def _split_pem(pem: str) -> Tuple[Any, List[Any]]:
    """The private key and the certificates (leaf first) of a PEM key store."""
    data = _pem_bytes(pem, "the PEM key store")
    begin = data.find(b"-----BEGIN PRIVATE KEY-----")
    end = data.find(b"-----END PRIVATE KEY-----")
    if begin < 0 or end < 0:
        raise TlsMaterialError("the PEM key store holds no unencrypted PKCS8 private key")
    try:
        key = serialization.load_pem_private_key(data[begin:end + len(b"-----END PRIVATE KEY-----")], password=None)
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise TlsMaterialError("the PEM key store cannot be read: %s" % error) from error
    if key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
            certificates[0].public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise TlsMaterialError("the first certificate of the PEM key store is not the private key's")
    return key, certificates


def _same_store(current: bytes, password: bytes, key: Any, certificates: List[Any]) -> bool:
    """Whether a PKCS12 store opens with ``password`` and holds ``key`` and ``certificates``, in order."""
    try:
        found_key, found_cert, found_others = pkcs12.load_key_and_certificates(current, password)
    except (ValueError, TypeError):
        return False
    if found_key is None or found_cert is None:
        return False
    der = (serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return (found_key.private_bytes(*der) == key.private_bytes(*der)
            and [found_cert] + list(found_others) == certificates)


def _encryption(password: str) -> Any:
    if not HAS_CRYPTOGRAPHY:
        raise TlsMaterialError("making a PKCS12 store needs the Python package cryptography on the control node")
    if not isinstance(password, str) or not password:
        raise TlsMaterialError("a PKCS12 store needs a non-empty password")
    return (serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(_KDF_ROUNDS)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
            .build(password.encode()))


def _decode(current: Optional[str]) -> bytes:
    if not current:
        return b""
    if not isinstance(current, str):
        raise TlsMaterialError("the current store must be base64 text (as a Secret holds it), got %s" % type(current).__name__)
    try:
        return base64.b64decode(current, validate=True)
    except (binascii.Error, ValueError):
        return b""


def pkcs12_keystore(pem: str, password: str, current: Optional[str] = None, alias: str = "kafkaops") -> str:
    """A PKCS12 key store (base64) holding the private key and certificate chain of the PEM key store
    ``pem``, protected by ``password`` with the entry named ``alias``. ``current`` (base64, as a Secret
    holds it) is returned as it is when it already holds the same key and certificates under that
    password."""
    encryption = _encryption(password)
    if not isinstance(alias, str) or not alias:
        raise TlsMaterialError("the key store's alias must be a non-empty string, got %r" % (alias,))
    key, certificates = _split_pem(pem)
    existing = _decode(current)
    if existing and _same_store(existing, password.encode(), key, certificates):
        return str(current)
    store = pkcs12.serialize_key_and_certificates(alias.encode(), key, certificates[0], certificates[1:] or None, encryption)
    return base64.b64encode(store).decode()


def pkcs12_truststore(bundle: str, password: str, current: Optional[str] = None) -> str:
    """A PKCS12 trust store (base64) with each certificate of the PEM ``bundle`` as a trusted entry
    (``ca-0``, ``ca-1``, ...: the attribute Java looks for, which a plain PKCS12 of certificates lacks),
    protected by ``password``. ``current`` is returned as it is when it already trusts exactly those
    certificates, in order, under that password."""
    encryption = _encryption(password)
    if not hasattr(pkcs12, "serialize_java_truststore"):
        raise TlsMaterialError("making a Java trust store needs cryptography 45 or later on the control node")
    try:
        certificates = x509.load_pem_x509_certificates(_pem_bytes(bundle, "the PEM trust bundle"))
    except ValueError as error:
        raise TlsMaterialError("the PEM trust bundle cannot be read: %s" % error) from error
    existing = _decode(current)
    if existing:
        try:
            found = pkcs12.load_pkcs12(existing, password.encode())
            if found.key is None and [c.certificate for c in found.additional_certs] == certificates:
                return str(current)
        except (ValueError, TypeError):
            pass
    entries = [pkcs12.PKCS12Certificate(cert, b"ca-%d" % index) for index, cert in enumerate(certificates)]
    return base64.b64encode(pkcs12.serialize_java_truststore(entries, encryption)).decode()
