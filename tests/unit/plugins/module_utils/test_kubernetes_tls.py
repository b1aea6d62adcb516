# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _kubernetes.tls: PKCS12 key and trust stores from PEM, read back with cryptography and
with Java's own keytool (what Jetty and rest-utils load them with), kept when nothing changed."""

from __future__ import annotations

import base64
import datetime
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import tls


def certificate(common, issuer_key=None, issuer=None, ca=False, key=None):
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer.subject if issuer else name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key or key, hashes.SHA256()))
    return key, cert


def pem(*items):
    text = b""
    for item in items:
        if isinstance(item, x509.Certificate):
            text += item.public_bytes(serialization.Encoding.PEM)
        else:
            text += item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return text.decode()


@pytest.fixture(scope="module")
def chain():
    ca_key, ca = certificate("ca", ca=True)
    key, cert = certificate("kafka-connect-0", ca_key, ca)
    other_ca_key, other_ca = certificate("other ca", ca=True)
    return {"ca": ca, "ca_key": ca_key, "key": key, "cert": cert, "other_ca": other_ca, "keystore": pem(key, cert, ca)}


def test_the_key_store_holds_the_key_and_the_chain_and_is_kept_on_a_rerun(chain):
    store = tls.pkcs12_keystore(chain["keystore"], "pw-1", alias="kafka-connect-0")
    key, cert, others = pkcs12.load_key_and_certificates(base64.b64decode(store), b"pw-1")
    assert cert == chain["cert"] and others == [chain["ca"]]
    assert key.private_numbers() == chain["key"].private_numbers()
    # written again it would differ (random salts): a re-run keeps the current one
    assert tls.pkcs12_keystore(chain["keystore"], "pw-1", alias="kafka-connect-0") != store
    assert tls.pkcs12_keystore(chain["keystore"], "pw-1", current=store) == store


@pytest.mark.parametrize("change", ["password", "certificate", "garbage"])
def test_a_new_password_or_certificate_makes_a_new_key_store(chain, change):
    store = tls.pkcs12_keystore(chain["keystore"], "pw-1")
    keystore, password, current = chain["keystore"], "pw-1", store
    if change == "password":
        password = "pw-2"
    elif change == "certificate":
        _key, renewed = certificate("kafka-connect-0", chain["ca_key"], chain["ca"], key=chain["key"])
        keystore = pem(chain["key"], renewed, chain["ca"])
    else:
        current = "not base64!"
    made = tls.pkcs12_keystore(keystore, password, current=current)
    assert made != store
    _key, cert, _others = pkcs12.load_key_and_certificates(base64.b64decode(made), password.encode())
    assert cert == x509.load_pem_x509_certificates(keystore.encode())[0]


def test_the_trust_store_trusts_each_ca_for_java_and_is_kept_on_a_rerun(chain):
    bundle = pem(chain["ca"], chain["other_ca"])
    store = tls.pkcs12_truststore(bundle, "pw-1")
    loaded = pkcs12.load_pkcs12(base64.b64decode(store), b"pw-1")
    assert loaded.key is None
    assert [(c.certificate, c.friendly_name) for c in loaded.additional_certs] == [(chain["ca"], b"ca-0"), (chain["other_ca"], b"ca-1")]
    assert tls.pkcs12_truststore(bundle, "pw-1", current=store) == store
    assert tls.pkcs12_truststore(pem(chain["ca"]), "pw-1", current=store) != store
    assert tls.pkcs12_truststore(bundle, "pw-2", current=store) != store


def test_java_reads_both_stores(chain, tmp_path):
    keytool = shutil.which("keytool")
    assert keytool, "keytool (Java) is part of the test harness"
    keystore = tmp_path / "keystore.p12"
    keystore.write_bytes(base64.b64decode(tls.pkcs12_keystore(chain["keystore"], "pw-1", alias="kafka-connect-0")))
    truststore = tmp_path / "truststore.p12"
    truststore.write_bytes(base64.b64decode(tls.pkcs12_truststore(pem(chain["ca"], chain["other_ca"]), "pw-1")))
    listed = subprocess.run([keytool, "-list", "-v", "-storetype", "PKCS12", "-keystore", str(keystore), "-storepass", "pw-1"],
                            capture_output=True, text=True, check=True).stdout
    assert "Alias name: kafka-connect-0" in listed and "Entry type: PrivateKeyEntry" in listed
    assert "Certificate chain length: 2" in listed
    listed = subprocess.run([keytool, "-list", "-storetype", "PKCS12", "-keystore", str(truststore), "-storepass", "pw-1"],
                            capture_output=True, text=True, check=True).stdout
    assert listed.count("trustedCertEntry") == 2
    wrong = subprocess.run([keytool, "-list", "-storetype", "PKCS12", "-keystore", str(truststore), "-storepass", "pw-2"],
                           capture_output=True, text=True, check=False)
    assert wrong.returncode != 0


@pytest.mark.parametrize("keystore,password,message", [
    ("", "pw", "no unencrypted PKCS8 private key"),
    ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "pw", "cannot be read"),
    (None, "", "non-empty password"),
    ("mismatch", "pw", "not the private key's"),
])
def test_bad_input_is_refused_with_a_reason(chain, keystore, password, message):
    if keystore is None:
        keystore = chain["keystore"]
    elif keystore == "mismatch":
        other_key, _cert = certificate("x")
        keystore = pem(other_key, chain["cert"])
    with pytest.raises(tls.TlsMaterialError, match=message):
        tls.pkcs12_keystore(keystore, password)
    with pytest.raises(tls.TlsMaterialError, match="cannot be read"):
        tls.pkcs12_truststore("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "pw")


def test_malformed_arguments_are_refused(chain):
    with pytest.raises(tls.TlsMaterialError, match="the PEM key store must be PEM text, got null"):
        tls.pkcs12_keystore(None, "pw")
    with pytest.raises(tls.TlsMaterialError, match="the PEM key store must be PEM text, got int"):
        tls.pkcs12_keystore(42, "pw")
    with pytest.raises(tls.TlsMaterialError, match="non-empty password"):
        tls.pkcs12_keystore(chain["keystore"], ["pw"])
    with pytest.raises(tls.TlsMaterialError, match="alias must be a non-empty string, got 42"):
        tls.pkcs12_keystore(chain["keystore"], "pw", alias=42)
    with pytest.raises(tls.TlsMaterialError, match="the current store must be base64 text"):
        tls.pkcs12_keystore(chain["keystore"], "pw", current=42)
    with pytest.raises(tls.TlsMaterialError, match="the PEM trust bundle must be PEM text, got list"):
        tls.pkcs12_truststore(["x"], "pw")
