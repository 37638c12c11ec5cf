"""The deployment of deploy/ on this machine: nginx (Debian's, an unprivileged child process on
free ports, its configuration rendered from deploy/nginx-frontline.conf.template) terminating TLS
with a self-signed certificate made here, two `frontline serve` processes and `frontline worker`
behind it, on the suite's database (PostgreSQL when FRONTLINE_TEST_DATABASE_URL is set). A phone
(Chromium) signs in over HTTPS, its service worker registers, a handover note saved with no signal
is sent once when signal returns, and a push subscription made in the page reaches the worker,
which delivers a notification. Trusted proxy headers: a forged X-Forwarded-For is ignored."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import create_engine, select

from api.push.keys import generate_key_pair
from deploy.render_nginx import render
from schemas.handovers import Handover
from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS, PHONE
from tests.browser.test_offline import (
    CREW,
    fill_handover,
    keep_for_offline,
    start_signed_in,
    submit_and_see_it_saved,
    unique,
    wait_count,
    wait_sent,
)
from tests.push.stand_in import StandInPushService
from tests.support.live_server import ROOT, LiveServer, free_port

pytestmark = pytest.mark.browser

METRICS_TOKEN = "deployment-test-metrics-token"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None
    )


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Frontline test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Deployment:
    url: str  # https://127.0.0.1:<port>: what the tests/browser helpers call server.url
    http_url: str
    certificate: Path
    apps: list[LiveServer]
    push: StandInPushService

    def trust(self) -> ssl.SSLContext:
        """A TLS context that trusts the test's own certificate (and nothing else)."""
        return ssl.create_default_context(cafile=self.certificate)


def start_nginx(binary: str, directory: Path, site: str) -> subprocess.Popen[bytes]:
    (directory / "site.conf").write_text(site)
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / name).mkdir(exist_ok=True)
    main = f"""
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {directory}/access.log;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/site.conf;
}}
"""
    (directory / "nginx.conf").write_text(main)
    check = subprocess.run(
        [
            binary,
            "-t",
            "-p",
            str(directory),
            "-c",
            str(directory / "nginx.conf"),
            "-e",
            str(directory / "error.log"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, f"the rendered configuration is refused: {check.stderr}"
    return subprocess.Popen(
        [
            binary,
            "-p",
            str(directory),
            "-c",
            str(directory / "nginx.conf"),
            "-e",
            str(directory / "error.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # it writes to error.log (-e)
    )


@pytest.fixture
def deployment(database_url: str, tmp_path: Path) -> Iterator[Deployment]:
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    certificate, key = self_signed_certificate(tmp_path)
    private_key, _public = generate_key_pair()
    env = {
        "FRONTLINE_SECRET_KEY": "deployment-test-shared-key-0123456789abcdef",
        "FRONTLINE_VAPID_PRIVATE_KEY": private_key,
        "FRONTLINE_PUSH_WORKER": "off",
        "FRONTLINE_TRUSTED_PROXY_COUNT": "1",
        "FRONTLINE_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "FRONTLINE_LOGIN_MAX_FAILURES_PER_CLIENT": "3",
        "FRONTLINE_METRICS_TOKEN": METRICS_TOKEN,
    }
    apps = [
        LiveServer(tmp_path / name, database_url=database_url, env=env) for name in ("app1", "app2")
    ]
    https_port, http_port = free_port(), free_port()
    site = render(
        {
            "SERVER_NAME": "localhost 127.0.0.1",
            "PUBLIC_HOST": f"127.0.0.1:{https_port}",
            "HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "HTTPS_LISTEN": f"127.0.0.1:{https_port}",
            "APP_1": f"127.0.0.1:{apps[0].port}",
            "APP_2": f"127.0.0.1:{apps[1].port}",
            "CERTIFICATE": str(certificate),
            "CERTIFICATE_KEY": str(key),
        }
    )
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    worker: subprocess.Popen[bytes] | None = None
    nginx: subprocess.Popen[bytes] | None = None
    worker_log = (tmp_path / "worker.log").open("wb")
    with StandInPushService(_public) as push, worker_log:
        try:
            for app in apps:
                app.start()
            worker = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "worker", "--interval", "0.5"],
                cwd=ROOT,
                env=apps[0].env,
                stdout=subprocess.DEVNULL,
                stderr=worker_log,
            )
            nginx = start_nginx(binary, nginx_dir, site)
            url = f"https://127.0.0.1:{https_port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (
                        httpx.get(
                            f"{url}/healthz",
                            verify=ssl.create_default_context(cafile=certificate),
                            timeout=2,
                        ).status_code
                        == 200
                    ):
                        break
                except httpx.HTTPError:
                    pass
                assert nginx.poll() is None, (nginx_dir / "error.log").read_text()
                assert time.monotonic() < deadline, "nginx never answered over HTTPS"
                time.sleep(0.1)
            yield Deployment(url, f"http://127.0.0.1:{http_port}", certificate, apps, push)
            assert worker.poll() is None, "the push worker died"
        finally:
            if nginx is not None:
                nginx.send_signal(signal.SIGQUIT)  # graceful shutdown
                try:
                    nginx.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    nginx.kill()
                    nginx.wait(timeout=15)
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(timeout=15)
            for app in apps:
                app.stop()


@pytest.fixture
def phone(playwright_driver: Any) -> Iterator[tuple[Any, Any]]:
    # The certificate is self-signed: Chromium is told to accept it, so the origin counts as
    # secure (a service worker registers) as it would with the trust's real certificate. A browser
    # of its own (the flag is per launch), from the suite's one Playwright driver.
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, args=[*LAUNCH_ARGS, "--ignore-certificate-errors"]
    )
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield context, page
    finally:
        context.close()
        browser.close()


def scrape(app: LiveServer) -> str:
    response = httpx.get(
        f"{app.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5
    )
    assert response.status_code == 200
    return response.text


def requests_answered(metrics: str) -> float:
    return sum(
        float(line.rpartition(" ")[2])
        for line in metrics.splitlines()
        if line.startswith("frontline_http_requests_total{")
    )


def test_an_offline_journey_through_https_nginx_two_processes_and_the_worker(
    deployment: Deployment, phone: tuple[Any, Any], database_url: str
) -> None:
    context, page = phone
    before = [requests_answered(scrape(app)) for app in deployment.apps]

    # Plain HTTP only points to HTTPS; metrics are not served to the internet.
    redirect = httpx.get(f"{deployment.http_url}/login", timeout=5)
    assert redirect.status_code == 301
    assert redirect.headers["location"] == f"{deployment.url}/login"
    assert (
        httpx.get(f"{deployment.url}/metrics", verify=deployment.trust(), timeout=5).status_code
        == 404
    )

    # Sign in over HTTPS; the service worker registers and takes control (a secure origin).
    start_signed_in(page, deployment, CREW)  # type: ignore[arg-type]
    assert page.evaluate("location.protocol") == "https:"
    assert page.evaluate("window.isSecureContext") is True
    keep_for_offline(page, deployment, "/outbox", "/handovers/new")  # type: ignore[arg-type]

    # A push subscription, made by the page as push-optin.js does once the browser has subscribed
    # (headless Chromium has no push service of its own: the stand-in plays it).
    subscription = deployment.push.new_subscription("crew-phone")
    status = page.evaluate(
        """(sub) => fetch('/api/v1/push/subscriptions', {method: 'POST', headers: {
             'Content-Type': 'application/json',
             'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
             body: JSON.stringify(sub)}).then(r => r.status)""",
        subscription,
    )
    assert status in (200, 201)

    # No signal: the note is saved on the phone; signal back: sent once, through nginx.
    narrative = unique("Handover through the proxy")
    context.set_offline(True)
    record_id = fill_handover(page, narrative)
    submit_and_see_it_saved(page)
    wait_count(page, 1)
    context.set_offline(False)
    assert wait_sent(page, record_id)["outcome"] == "created"
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Handover.id, Handover.narrative).where(Handover.narrative == narrative)  # type: ignore[arg-type]
            ).all()
    finally:
        engine.dispose()
    assert [(str(r[0]), r[1]) for r in rows] == [(record_id, narrative)]

    # A manager reviews the note through the proxy: the worker process sends the crew member's
    # phone a notification, which the stand-in push service decrypts.
    manager = httpx.Client(base_url=deployment.url, verify=deployment.trust(), timeout=10)
    login = manager.get("/login").text
    token = login.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    assert (
        manager.post(
            "/login",
            data={
                "email": "manager@demo.nhs.uk",
                "password": "manager-demo-pass",
                "csrf_token": token,
            },
        ).status_code
        == 303
    )
    csrf = manager.get("/api/v1/me").json()["csrf_token"]
    moved = manager.post(
        f"/api/v1/handovers/{record_id}/transitions",
        json={"to": "reviewed", "note": "Thank you, raised at the huddle."},
        headers={"X-CSRF-Token": csrf},
    )
    assert moved.status_code == 200, moved.text
    deadline = time.monotonic() + 30
    while not deployment.push.delivered("crew-phone"):
        assert time.monotonic() < deadline, "the worker delivered no notification"
        time.sleep(0.1)
    assert deployment.push.problems == []

    # Both app processes answered some of this through nginx.
    after = [requests_answered(scrape(app)) for app in deployment.apps]
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)


def test_a_forged_x_forwarded_for_is_ignored_through_nginx_and_directly(
    deployment: Deployment,
) -> None:
    def attempts(client: httpx.Client) -> list[int]:
        answers = []
        for n in range(4):
            page = client.get("/login").text
            token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
            answers.append(
                client.post(
                    "/login",
                    data={
                        "email": f"guess{n}@nhs.net",
                        "password": "wrong-password-here",
                        "csrf_token": token,
                    },
                    headers={"X-Forwarded-For": f"198.51.100.{n}"},
                ).status_code
            )
        return answers

    # Through nginx: it replaces the header with the address it saw, so rotating it is no use.
    with httpx.Client(base_url=deployment.url, verify=deployment.trust(), timeout=10) as through:
        assert attempts(through) == [422, 422, 422, 429]
    # Straight to an app process from an address that is not the proxy (127.0.0.2): the header
    # is not believed there either.
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with contextlib.closing(
        httpx.Client(base_url=deployment.apps[1].url, transport=transport, timeout=10)
    ) as direct:
        assert attempts(direct) == [422, 422, 422, 429]


def test_the_nginx_template_refuses_to_render_with_a_value_missing() -> None:
    with pytest.raises(KeyError, match="CERTIFICATE_KEY"):
        render({"SERVER_NAME": "x"}, "server_name @SERVER_NAME@; key @CERTIFICATE_KEY@;")
    assert os.access(ROOT / "deploy" / "render_nginx.py", os.R_OK)


def test_content_hashed_static_files_through_nginx(deployment: Deployment) -> None:
    """What a page names reaches the phone immutable through the proxy; an unknown hash is a 404
    (nginx asks the other process first: during an upgrade one of them may not know it yet)."""
    with httpx.Client(base_url=deployment.url, verify=deployment.trust(), timeout=10) as phone:
        page = phone.get("/login").text
        named = re.findall(r'(?:src|href)="(/static/[^"]+\.[0-9a-f]{10}\.[a-z]+)"', page)
        assert named
        for url in named:
            response = phone.get(url)
            assert response.status_code == 200, url
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        unknown = re.sub(r"\.[0-9a-f]{10}\.", ".0000000000.", named[0])
        assert phone.get(unknown).status_code == 404
    site = (ROOT / "deploy" / "nginx-frontline.conf.template").read_text()
    assert "proxy_next_upstream error timeout http_502 http_503 http_404;" in site
