"""`frontline serve --tls`: a self-signed certificate kept in FRONTLINE_DATA_DIR, its fingerprint and
the addresses to open printed, and the server answering over HTTPS with exactly that certificate."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from api.operations.tls import ensure_certificate, fingerprint
from tests.support.live_server import ROOT, free_port

# `frontline serve --tls` on a data folder of its own: once, in the SQLite pass.
pytestmark = pytest.mark.sqlite_file


def test_the_certificate_is_made_once_kept_and_names_this_machine(tmp_path: Path) -> None:
    first = ensure_certificate(tmp_path, ("192.0.2.44",))
    again = ensure_certificate(tmp_path, ("192.0.2.44",))

    assert first == again  # kept, not made again on every start
    certificate = x509.load_pem_x509_certificate(first.certificate.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    addresses = {str(a) for a in names.get_values_for_type(x509.IPAddress)}
    assert {"127.0.0.1", "192.0.2.44"} <= addresses
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert fingerprint(certificate) == first.fingerprint
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", first.fingerprint)
    assert first.key.stat().st_mode & 0o077 == 0, "the private key is readable only by its owner"

    # A new address (the laptop moved to another network): a new certificate that names it.
    moved = ensure_certificate(tmp_path, ("198.51.100.9",))
    assert moved.fingerprint != first.fingerprint
    assert "198.51.100.9" in moved.addresses


def test_serve_tls_prints_the_fingerprint_and_answers_over_https(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FRONTLINE_")},
        "FRONTLINE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'frontline.db'}",
        "FRONTLINE_PUSH_WORKER": "off",
    }
    subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--tls",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        printed = [server.stdout.readline() for _ in range(6)]
        text = "".join(printed)
        assert f"https://127.0.0.1:{port}" in text
        shown = re.search(r"SHA-256 fingerprint: ([0-9A-F:]+)", text)
        assert shown, text
        certificate_file = tmp_path / "tls" / "frontline-dev-cert.pem"
        assert str(certificate_file) in text

        trust = ssl.create_default_context(cafile=certificate_file)
        deadline = time.monotonic() + 60
        while True:
            try:
                # Connecting is retried until the server listens; its first answer may take a
                # while on a busy machine (it builds its routes on first use), so no 2 s read limit.
                answer = httpx.get(
                    f"https://127.0.0.1:{port}/healthz",
                    verify=trust,
                    timeout=httpx.Timeout(60, connect=2),
                )
                break
            except httpx.ConnectError:
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "no HTTPS answer within 60 s"
                time.sleep(0.2)
        assert answer.status_code == 200
        served = ssl.get_server_certificate(("127.0.0.1", port))
        assert fingerprint(x509.load_pem_x509_certificate(served.encode())) == shown.group(1)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


def test_serve_tls_is_refused_in_production(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FRONTLINE_")},
        "FRONTLINE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'frontline.db'}",
        "FRONTLINE_ENVIRONMENT": "production",
        "FRONTLINE_SECRET_KEY": "a-production-secret-key-0123456789abcdef",
    }
    refused = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--tls"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2
    assert "in production put the trust's certificate on the proxy" in refused.stderr
    assert not (tmp_path / "tls").exists()
