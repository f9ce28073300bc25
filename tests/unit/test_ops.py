"""Operator-facing pieces without a broker: CLI polish, security settings, the live view's
content, kept demo state, and the poller's health endpoints on a real local HTTP server."""

from __future__ import annotations

import json
import ssl
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

import streams.metrics  # noqa: F401  (registers the news_* metrics served at /metrics)
from streams import settings as settings_mod
from streams.health import Health, serve
from streams.kafka import client_kwargs, describe, faust_credentials, ssl_context
from streams.live import FeedBoard, LiveStats
from streams.run import kept_state, wipe_state
from streams.settings import SettingsError
from tests.integration.conftest import free_ports
from tests.unit.test_cli import cli

ROOT = Path(__file__).resolve().parents[2]


# --- CLI polish ---------------------------------------------------------------------------------
@pytest.mark.parametrize("flag", [[], ["--jsonl"]])
def test_tag_and_process_read_jsonl_without_a_flag(flag: list[str]) -> None:
    doc = json.dumps({"id": "a", "text": "Генсек НАТО заявив про нові навчання в Польщі."}).encode()
    tagged = cli("tag", *flag, stdin=doc)
    assert tagged.returncode == 0, tagged.stderr
    assert "nato" in json.loads(tagged.stdout)["tags"]
    processed = cli("process", *flag, stdin=doc)
    assert processed.returncode == 0, processed.stderr
    assert json.loads(processed.stdout.splitlines()[0])["kind"] == "lead"


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"\x7fELF\x02\x01\x01\x00\x00\x00garbage", "binary"), (b"caf\xe9 latin-1 text", "UTF-8")],
)
def test_split_refuses_binary_input(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "garbage.bin"
    path.write_bytes(data)
    proc = cli("split", str(path))
    assert proc.returncode == 1
    assert proc.stdout == b""
    assert f"news-streams split: {path}: " in proc.stderr.decode()
    assert reason in proc.stderr.decode()


def test_settings_prints_env_names_and_masks_secrets() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "NEWS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "NEWS_KAFKA_SASL_USERNAME": "svc-news",
        "NEWS_KAFKA_SASL_PASSWORD": "s3cr3t-value",
        "NEWS_ALLOW_PRIVATE_HOSTS": "1",
    }
    proc = cli("settings", env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "NEWS_ALLOW_PRIVATE_HOSTS=True" in out
    assert "NEWS_KAFKA_SASL_USERNAME=svc-news" in out
    assert "NEWS_KAFKA_SASL_PASSWORD=***" in out
    assert "s3cr3t-value" not in out
    assert "allow_private_hosts=" not in out
    names = {line.split("=", 1)[0] for line in out.splitlines()}
    assert names == {f.metadata["env"] for f in settings_mod.FIELDS}


def test_license_is_an_spdx_string() -> None:
    """The table form makes setuptools print ~40 lines of deprecation warnings on install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(project["project"]["license"], str)
    requires = project["build-system"]["requires"]
    assert any(r.replace(" ", "").startswith("setuptools>=77") for r in requires)


# --- Kafka security settings -----------------------------------------------------------------
def test_secrets_are_masked_in_repr() -> None:
    s = settings_mod.load(
        {
            "NEWS_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "NEWS_KAFKA_SASL_USERNAME": "u",
            "NEWS_KAFKA_SASL_PASSWORD": "hunter2-secret",
            "NEWS_KAFKA_SSL_KEY_PASSWORD": "key-secret",
        }
    )
    assert "hunter2-secret" not in repr(s) and "key-secret" not in repr(s)
    assert "hunter2-secret" not in describe(s)
    assert settings_mod.display(s)["NEWS_KAFKA_SASL_PASSWORD"] == settings_mod.MASK


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NEWS_KAFKA_SECURITY_PROTOCOL": "TLS"}, "NEWS_KAFKA_SECURITY_PROTOCOL must be one of"),
        ({"NEWS_KAFKA_SASL_MECHANISM": "GSSAPI"}, "NEWS_KAFKA_SASL_MECHANISM must be one of"),
        ({"NEWS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs NEWS_KAFKA_SASL_USERNAME"),
        (
            {"NEWS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "NEWS_KAFKA_SASL_USERNAME": "u"},
            "needs NEWS_KAFKA_SASL_PASSWORD",
        ),
        ({"NEWS_KAFKA_SSL_CERTFILE": "/etc/hostname"}, "go together"),
        ({"NEWS_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"}, "no such file"),
    ],
)
def test_bad_security_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_mod.load(env)


def test_client_kwargs_read_secrets_from_files(tmp_path: Path) -> None:
    (tmp_path / "user").write_text("svc-news\n")
    (tmp_path / "password").write_text("from-a-file\n")
    s = settings_mod.load(
        {
            "NEWS_BOOTSTRAP_SERVERS": "kafka-1:9093,kafka-2:9093",
            "NEWS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "NEWS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
            "NEWS_KAFKA_SASL_USERNAME_FILE": str(tmp_path / "user"),
            "NEWS_KAFKA_SASL_PASSWORD_FILE": str(tmp_path / "password"),
        }
    )
    kw = client_kwargs(s)
    assert kw["bootstrap_servers"] == "kafka-1:9093,kafka-2:9093"
    assert kw["security_protocol"] == "SASL_SSL"
    assert kw["sasl_mechanism"] == "SCRAM-SHA-256"
    assert (kw["sasl_plain_username"], kw["sasl_plain_password"]) == ("svc-news", "from-a-file")
    assert isinstance(kw["ssl_context"], ssl.SSLContext)
    assert kw["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    creds = faust_credentials(s)
    assert creds.username == "svc-news" and creds.protocol.value == "SASL_SSL"
    assert creds.mechanism.value == "SCRAM-SHA-256"


def test_plaintext_has_no_tls_or_sasl() -> None:
    s = settings_mod.load({})
    assert client_kwargs(s) == {
        "bootstrap_servers": s.bootstrap_servers,
        "security_protocol": "PLAINTEXT",
    }
    assert ssl_context(s) is None and faust_credentials(s) is None


# --- live view ---------------------------------------------------------------------------------
def _outcome(feed: str, outcome: str, error: str | None = None, new: int = 0) -> SimpleNamespace:
    return SimpleNamespace(feed=feed, outcome=outcome, error=error, new=new)


def test_live_summary_shows_feed_health_duplicates_tags_and_kinds() -> None:
    stats = LiveStats(feeds=FeedBoard(["a-ok", "b-404", "z-local"]))
    stats.feeds.record(_outcome("a-ok", "ok", new=3))
    stats.feeds.record(_outcome("b-404", "http_status", "http_status: HTTP 404 (http://x/rss)"))
    stats.feeds.record(
        _outcome(
            "z-local", "refused", "refused: 127.0.0.1 is not a public address (http://127.0.0.1/)"
        )
    )
    stats.worker_metrics = {
        "news_units_total": 40,
        "news_duplicates_total": 10,
        "news_dlq_records_total": 2,
    }
    stats.add({"kind": "lead", "language": "uk", "title": "Заголовок", "tags": ["nato"]})
    stats.add({"kind": "teaser", "language": "en", "text": "A teaser", "tags": ["nato", "crimea"]})
    for text in (stats.summary(), stats.render()):
        lines = text.splitlines()
        feed_lines = [
            ln.strip() for ln in lines if "z-local" in ln or "b-404" in ln or "a-ok" in ln
        ]
        assert feed_lines[0].startswith("! z-local: refused"), text  # refused first
        assert feed_lines[1].startswith("! b-404: http_status x1: http_status: HTTP 404"), text
        assert "NEWS_ALLOW_PRIVATE_HOSTS=1" in text
        assert "feeds: 1 ok, 2 failing" in text
        assert "duplicates dropped 10 (25%)" in text and "dead letters 2" in text
        assert "top tags: nato 2, crimea 1" in text
        assert "[teaser] [en] A teaser" in text and "[lead  ] [uk] Заголовок" in text


def test_kept_state_is_found_and_wiped(tmp_path: Path) -> None:
    assert kept_state(tmp_path) == []
    (tmp_path / "kafka" / "kraft").mkdir(parents=True)
    (tmp_path / "kafka" / "kraft" / "meta.properties").write_text("cluster.id=x\n")
    (tmp_path / "worker" / "faust").mkdir(parents=True)
    kept = kept_state(tmp_path)
    assert len(kept) == 1 and "dedup state" in kept[0]
    (tmp_path / "keep-me").write_text("feeds")
    assert sorted(p.name for p in wipe_state(tmp_path)) == ["kafka", "worker"]
    assert kept_state(tmp_path) == [] and (tmp_path / "keep-me").exists()


# --- poller health endpoints -------------------------------------------------------------------
def _get(url: str) -> tuple[int, dict[str, object] | str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = resp.read().decode()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read().decode(), exc.code
    try:
        return status, json.loads(body)
    except json.JSONDecodeError:
        return status, body


def test_health_server_answers_probes_and_metrics() -> None:
    (port,) = free_ports(1)
    health = Health(["producer_connected"])
    server = serve(health, port, "127.0.0.1")
    try:
        base = f"http://127.0.0.1:{port}"
        status, alive = _get(f"{base}/healthz")
        assert status == 200 and isinstance(alive, dict) and alive["alive"] is True
        status, body = _get(f"{base}/readyz")
        assert status == 503 and body == {"ready": False, "checks": {"producer_connected": False}}
        health.set("producer_connected")
        assert _get(f"{base}/readyz") == (
            200,
            {"ready": True, "checks": {"producer_connected": True}},
        )
        status, text = _get(f"{base}/metrics")
        assert status == 200 and "news_feed_fetches_total" in str(text)
        health.stale_after_s = 0.0  # the loop "stopped ticking"
        assert _get(f"{base}/healthz")[0] == 503
        assert _get(f"{base}/nothing")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
