"""VAPID keys with zero configuration (made once, kept 0600, the same for every process), configured
keys, `frontline vapid` and `frontline worker`."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from api.config import get_settings
from api.main import create_app
from api.push.delivery import deliver_due
from api.push.keys import (
    KEY_FILE,
    VapidKeyError,
    generate_key_pair,
    load_or_create_key,
    parse_private_key,
    private_key_text,
    public_key_text,
    resolve_keys,
    vapid_keys,
)
from api.push.settings import PushSettings, push_settings
from tests.conftest import ROOT, Client
from tests.push.conftest import PUBLIC_KEY, queue, subscribe
from tests.push.stand_in import StandInPushService
from tests.test_cli_and_schema import FRONTLINE, run_cli


def configured(
    private: str | None = None, public: str | None = None, subject: str = "mailto:qi@trust.nhs.uk"
) -> PushSettings:
    return PushSettings(
        vapid_private_key=private,
        vapid_public_key=public,
        vapid_subject=subject,
        worker_enabled=True,
    )


def test_with_no_keys_configured_a_pair_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = resolve_keys(configured(), tmp_path)
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert resolve_keys(configured(), tmp_path).public_key == first.public_key
    assert list(tmp_path.iterdir()) == [key_file]  # no temporary file left behind


def test_app_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    data_dir, go = tmp_path / "data", tmp_path / "go"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from api.push.keys import load_or_create_key, public_key_text\n"
        "print('ready', flush=True)\n"
        "while not Path(sys.argv[2]).exists(): time.sleep(0.005)\n"
        "print(public_key_text(load_or_create_key(Path(sys.argv[1]))))\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(data_dir), str(go)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    # All have imported and wait for the same moment, however busy the machine.
    assert [process.stdout.readline() for process in processes] == ["ready\n"] * 6  # type: ignore[union-attr]
    go.touch()
    keys = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert len(keys) == 1
    assert [p.name for p in data_dir.iterdir()] == [KEY_FILE]
    assert keys == {public_key_text(load_or_create_key(data_dir))}


def test_every_app_instance_serves_the_same_public_key(crew: Any) -> None:
    other_instance = Client(create_app()).sign_in("staff@demo.nhs.uk")
    stored = public_key_text(load_or_create_key(get_settings().data_dir))
    assert crew.get(PUBLIC_KEY).json()["public_key"] == stored
    assert other_instance.get(PUBLIC_KEY).json()["public_key"] == stored


def test_configured_keys_are_used_and_nothing_is_written(tmp_path: Path) -> None:
    private, public = generate_key_pair()
    assert resolve_keys(configured(private, public), tmp_path).public_key == public
    assert resolve_keys(configured(private), tmp_path).public_key == public
    pem = parse_private_key(private).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert resolve_keys(configured(pem.decode()), tmp_path).public_key == public
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other-public", "FRONTLINE_VAPID_PUBLIC_KEY does not belong"),
        ("public-only", "FRONTLINE_VAPID_PUBLIC_KEY is set without"),
        ("garbage", "FRONTLINE_VAPID_PRIVATE_KEY is not a P-256 private key"),
        ("bad-subject", "FRONTLINE_VAPID_SUBJECT must be"),
    ],
)
def test_configured_keys_that_cannot_work_are_refused_without_echoing_them(
    tmp_path: Path, case: str, message: str
) -> None:
    private, _ = generate_key_pair()
    _, other_public = generate_key_pair()
    settings = {
        "other-public": configured(private, other_public),
        "public-only": configured(None, other_public),
        "garbage": configured("c2VjcmV0LWJ1dC1ub3QtYS1rZXk"),
        "bad-subject": configured(private, subject="qi team"),
    }[case]
    with pytest.raises(VapidKeyError) as refused:
        resolve_keys(settings, tmp_path)
    assert message in str(refused.value)
    assert private not in str(refused.value)
    assert "c2VjcmV0LWJ1dC1ub3QtYS1rZXk" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_a_key_file_readable_by_others_is_made_private_again(tmp_path: Path) -> None:
    load_or_create_key(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    load_or_create_key(tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


def test_push_settings_come_from_the_frontline_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    private, public = generate_key_pair()
    monkeypatch.setenv("FRONTLINE_VAPID_PRIVATE_KEY", private)
    monkeypatch.setenv("FRONTLINE_VAPID_PUBLIC_KEY", public)
    monkeypatch.setenv("FRONTLINE_VAPID_SUBJECT", "mailto:qi@trust.nhs.uk")
    monkeypatch.setenv("FRONTLINE_PUSH_WORKER", "off")
    get_settings.cache_clear()
    try:
        settings = push_settings()
    finally:
        get_settings.cache_clear()
    assert settings.vapid_private_key == private
    assert settings.vapid_public_key == public
    assert settings.vapid_subject == "mailto:qi@trust.nhs.uk"
    assert settings.worker_enabled is False
    assert private not in repr(settings)


def test_frontline_vapid_prints_a_new_pair_and_leaves_the_stored_one_alone(tmp_path: Path) -> None:
    stored = resolve_keys(configured(), tmp_path)
    before = (tmp_path / KEY_FILE).read_bytes()
    result = run_cli("vapid", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(printed) == {"FRONTLINE_VAPID_PRIVATE_KEY", "FRONTLINE_VAPID_PUBLIC_KEY"}
    new_private = parse_private_key(printed["FRONTLINE_VAPID_PRIVATE_KEY"])
    assert public_key_text(new_private) == printed["FRONTLINE_VAPID_PUBLIC_KEY"]
    assert printed["FRONTLINE_VAPID_PUBLIC_KEY"] != stored.public_key
    assert (tmp_path / KEY_FILE).read_bytes() == before
    assert printed["FRONTLINE_VAPID_PRIVATE_KEY"] not in result.stderr


def test_the_private_key_never_appears_in_a_response_or_a_log(
    crew: Any, push_service: StandInPushService, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    keys = vapid_keys()
    pem_lines = (get_settings().data_dir / KEY_FILE).read_text().splitlines()[1:-1]
    secrets = [private_key_text(keys.private_key), *pem_lines]
    frontline_logger = logging.getLogger("frontline")
    frontline_logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    try:
        answers = [crew.get(PUBLIC_KEY), crew.get("/openapi.json")]
        answers.append(subscribe(crew, push_service.new_subscription()))
        queue("crew@demo.nhs.uk")
        push_service.answer(next(iter(push_service.browsers)), 500)
        deliver_due(engine)
    finally:
        frontline_logger.removeHandler(caplog.handler)
    seen = "\n".join(a.text for a in answers) + caplog.text + repr(keys)
    assert "push deliveries handled" in caplog.text
    for secret in secrets:
        assert secret not in seen


def _worker_environment() -> dict[str, str]:
    return {"DATABASE_URL": os.environ["DATABASE_URL"], "FRONTLINE_ENVIRONMENT": "test"}


def test_frontline_worker_once_sends_what_is_due(
    crew: Any, push_service: StandInPushService
) -> None:
    subscribe(crew, push_service.new_subscription("phone"))
    queue("crew@demo.nhs.uk")
    result = run_cli("worker", "--once", data_dir=get_settings().data_dir, **_worker_environment())
    assert result.returncode == 0, result.stderr
    assert "Handled 1 push deliveries." in result.stdout
    assert len(push_service.delivered("phone")) == 1


def test_frontline_worker_delivers_until_sigterm(
    crew: Any, push_service: StandInPushService
) -> None:
    subscribe(crew, push_service.new_subscription("phone"))
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "FRONTLINE_DATA_DIR": str(get_settings().data_dir),
        **_worker_environment(),
    }
    worker = subprocess.Popen(
        [*FRONTLINE, "worker", "--interval", "0.5"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        queue("crew@demo.nhs.uk")
        deadline = time.monotonic() + 30
        while not push_service.delivered("phone") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(push_service.delivered("phone")) == 1
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0
    assert '"event": "push_worker_stop"' in stderr
