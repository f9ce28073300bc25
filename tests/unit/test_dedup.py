"""Windowed dedup: find_duplicate / prune semantics, Deduplicator window and out-of-order events."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from streams.text.dedup import Deduplicator, Seen, find_duplicate, prune
from streams.text.fingerprint import signature

A = "Уряд продовжив дію спрощеного порядку перетину кордону для волонтерів до кінця року."
B = "Синоптики попереджають про сильний вітер і грозу на заході країни в четвер та п'ятницю."
DAY = 86400.0


def test_seen_json_round_trip() -> None:
    s = Seen("e1", signature(A), 1000.5)
    assert Seen.from_json(orjson.loads(orjson.dumps(s.to_json()))) == s


def test_find_duplicate_window_and_future() -> None:
    bucket = [Seen("old", signature(A), 0.0), Seen("b", signature(B), 50.0)]
    assert find_duplicate(signature(A), bucket, now=DAY + 1, window_s=DAY) is None
    assert find_duplicate(signature(A), bucket, now=100.0, window_s=DAY).event_id == "old"  # type: ignore[union-attr]
    # An entry from the "future" within the window counts (out-of-order arrival).
    assert find_duplicate(signature(B), bucket, now=10.0, window_s=DAY).event_id == "b"  # type: ignore[union-attr]


def test_find_duplicate_prefers_earliest() -> None:
    bucket = [Seen("late", signature(A), 500.0), Seen("early", signature(A + " "), 100.0)]
    hit = find_duplicate(signature(A), bucket, now=600.0, window_s=DAY)
    assert hit is not None and hit.event_id == "early"


def test_prune_expiry_and_cap_keeps_newest_in_order() -> None:
    sig = signature(A)
    bucket = [Seen(str(i), sig, float(i)) for i in range(100)]
    out = prune(bucket, now=99.0, window_s=50.0, max_len=10)
    assert [s.event_id for s in out] == [str(i) for i in range(90, 100)]
    assert prune([], now=0.0, window_s=1.0) == []


def test_deduplicator_window_expiry() -> None:
    dd = Deduplicator(window_s=DAY)
    assert dd.check(signature(A), "a1", 0.0) is None
    hit = dd.check(signature(A.replace("кінця", "початку")), "a2", 3600.0)
    assert hit is not None and hit.event_id == "a1"
    assert dd.check(signature(B), "b1", 3600.0) is None
    assert dd.check(signature(A), "a3", 2 * DAY) is None  # a1 expired: new again


def test_deduplicator_out_of_order() -> None:
    dd = Deduplicator(window_s=DAY)
    assert dd.check(signature(A), "later", 10_000.0) is None
    hit = dd.check(signature(A), "earlier", 5_000.0)
    assert hit is not None and hit.event_id == "later"


def test_deduplicator_truncated_and_stage1() -> None:
    dd = Deduplicator()
    assert dd.check(signature(A), "full", 0.0) is None
    teaser = " ".join(A.split()[:8]) + "…"
    assert dd.check(signature(teaser), "t", 1.0) is not None
    edited = A.replace("продовжив", "подовжив")  # breaks the stage-0 key, stage 1 catches it
    assert signature(edited).keys[0] != signature(A).keys[0]
    hit = dd.check(signature(edited), "e", 2.0)
    assert hit is not None and hit.event_id == "full"


def _shared() -> Path:
    return Path(os.environ.get("NEWS_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))


def test_dev_set_f1_bar() -> None:
    path = _shared() / "eval-dev" / "dedup.jsonl"
    if not path.exists():
        pytest.skip(f"shared dev set not found at {path} (set NEWS_SHARED_DIR)")
    from bench.eval_dedup import evaluate, load_rows

    assert evaluate(load_rows(path))["dedup"]["f1"] >= 0.95
