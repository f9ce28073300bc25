"""The offline CLI as a user runs it (a real subprocess): output shapes and bad-input handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import SharedMissing, seed_text
from streams.events import validation_errors

ROOT = Path(__file__).resolve().parents[2]


def cli(
    *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``news-streams ARGS`` in a subprocess, as a user runs it (``env`` None: ours)."""
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env=env,
    )


def lines(out: bytes) -> list[dict[str, Any]]:
    return [json.loads(x) for x in out.decode().splitlines() if x.strip()]


@pytest.fixture(scope="module")
def seed() -> str:
    try:
        return seed_text()
    except SharedMissing as exc:
        pytest.skip(f"shared seed absent: {exc}")


def test_split_one_document(seed: str) -> None:
    proc = cli("split", stdin=seed.encode())
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["title"] == seed.splitlines()[0]
    assert len(out["lead"]) == 6 and len(out["teasers"]) == 14
    assert len(set(out["teasers"])) == 10


def test_split_jsonl_html() -> None:
    html = (
        "<h1>Заголовок новини</h1><p>Перший абзац статті про нову лінію метро в Харкові, "
        "яку відкрили в понеділок.</p><p>Читайте також: <a href='/x'>Ціни на пальне знову "
        "зросли</a></p>"
    )
    proc = cli("split", "--jsonl", stdin=json.dumps({"id": "h1", "html": html}).encode() + b"\n")
    assert proc.returncode == 0, proc.stderr
    (out,) = lines(proc.stdout)
    assert out["id"] == "h1"
    (teaser,) = out["teasers"]
    assert teaser.endswith("Ціни на пальне знову зросли")
    assert out["teaser_meta"] == [{"position": 2, "link": "/x"}]
    assert len(out["lead"]) == 1


def test_process_seed_events_match_gold_counts(seed: str) -> None:
    doc = {"id": "seed", "text": seed, "published": "2026-11-20T08:00:00Z"}
    proc = cli("process", "--jsonl", "--all", "--validate", stdin=json.dumps(doc).encode())
    assert proc.returncode == 0, proc.stderr
    out = lines(proc.stdout)
    events = [o for o in out if "duplicate_of" not in o]
    dups = [o for o in out if "duplicate_of" in o]
    assert [e["kind"] for e in events].count("lead") == 1
    assert [e["kind"] for e in events].count("teaser") == 10
    assert len(dups) == 4
    ids = {e["event_id"] for e in events}
    assert all(d["duplicate_of"] in ids for d in dups)
    assert all(validation_errors(e) == [] for e in events)


def test_process_window_uses_published_time() -> None:
    text = "У Києві відкрили нову станцію метро, повідомили у міській раді в понеділок."
    docs = [
        {"id": "a", "text": text, "published": "2026-11-01T08:00:00Z"},
        {"id": "b", "text": text, "published": "2026-11-01T20:00:00Z"},  # same day: duplicate
        {"id": "c", "text": text, "published": "2026-11-05T08:00:00Z"},  # days later: new again
    ]
    stdin = "\n".join(json.dumps(d) for d in docs).encode()
    proc = cli("process", "--jsonl", "--all", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    out = lines(proc.stdout)
    assert [(o["item_id"], "duplicate_of" in o) for o in out] == [
        ("a", False),
        ("b", True),
        ("c", False),
    ]


def test_bad_lines_are_reported_and_skipped() -> None:
    good = json.dumps({"id": "ok", "text": "Президент США Дональд Трамп провів переговори."})
    stdin = b"\n".join(
        [
            b"{not json",
            json.dumps({"id": "x"}).encode(),  # neither text nor html
            b"\xff\xfe\x00garbage\x00",
            b'{"id": "big", "text": "' + b"a" * (20 * 1024 * 1024) + b'"}',
            b"[1, 2]",
            good.encode(),
        ]
    )
    for command in (["process", "--jsonl"], ["split", "--jsonl"], ["tag", "--jsonl"]):
        proc = cli(*command, stdin=stdin)
        assert proc.returncode == 1, command
        err = proc.stderr.decode()
        for number in (1, 2, 3, 4, 5):
            assert f"line {number}:" in err, (command, err)
        assert "line 6:" not in err
        assert "line too long" in err and "not UTF-8" in err
        out = lines(proc.stdout)
        assert [o.get("id", o.get("item_id")) for o in out][-1] == "ok", command


def test_tag_jsonl() -> None:
    doc = {"id": 7, "text": "Генсек НАТО заявив, що війська КНДР перебувають у Курській області."}
    proc = cli("tag", "--jsonl", stdin=json.dumps(doc).encode())
    assert proc.returncode == 0, proc.stderr
    (out,) = lines(proc.stdout)
    assert out["id"] == 7
    assert {"nato", "north-korea", "kursk"} <= set(out["tags"])


def test_missing_file_is_a_clear_error() -> None:
    proc = cli("process", "--jsonl", "/nonexistent/items.jsonl")
    assert proc.returncode == 2
    assert b"cannot open /nonexistent/items.jsonl" in proc.stderr
