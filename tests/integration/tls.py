"""Test PKI made with the ``openssl`` CLI and ``keytool``: a CA, a broker and a client certificate.

The broker gets PKCS#12 key- and truststores (what the Kafka JVM reads); clients get PEM files
(what Python's ``ssl`` reads). Everything lives in one temporary directory per test session.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

STORE_PASSWORD = "test-store-pass"


@dataclass(frozen=True)
class TestPKI:
    __test__ = False  # not a pytest test class
    ca_cert: Path
    broker_keystore: Path
    broker_truststore: Path
    client_cert: Path
    client_key: Path
    rogue_ca_cert: Path
    """A second CA that signed nothing the broker trusts (for "untrusted" tests)."""
    store_password: str = STORE_PASSWORD


def _run(*cmd: str, cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")


def _ca(d: Path, name: str) -> None:
    _run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )  # fmt: skip


def _leaf(d: Path, name: str, ca: str, ext: str) -> None:
    _run(
        "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d,
    )  # fmt: skip
    (d / f"{name}.ext").write_text(ext)
    _run(
        "openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey",
        f"{ca}.key", "-CAcreateserial", "-days", "2", "-out", f"{name}.pem",
        "-extfile", f"{name}.ext", cwd=d,
    )  # fmt: skip


def make_pki(d: Path) -> TestPKI:
    for tool in ("openssl", "keytool"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (needed to make test certificates)")
    d.mkdir(parents=True, exist_ok=True)
    _ca(d, "ca")
    _ca(d, "rogue-ca")
    _leaf(
        d,
        "broker",
        "ca",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    _leaf(d, "client", "ca", "extendedKeyUsage=clientAuth\n")
    _run(
        "openssl", "pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key",
        "-certfile", "ca.pem", "-name", "broker", "-out", "broker.p12",
        "-passout", f"pass:{STORE_PASSWORD}", cwd=d,
    )  # fmt: skip
    _run(
        "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem",
        "-keystore", "trust.p12", "-storetype", "PKCS12", "-storepass", STORE_PASSWORD, cwd=d,
    )  # fmt: skip
    return TestPKI(
        ca_cert=d / "ca.pem",
        broker_keystore=d / "broker.p12",
        broker_truststore=d / "trust.p12",
        client_cert=d / "client.pem",
        client_key=d / "client.key",
        rogue_ca_cert=d / "rogue-ca.pem",
    )
