"""The chaos harness's scoring (tests/integration/chaos.py), on made-up reads: a harness that
cannot count a loss or a repeat would make the fault-injection tests pass for nothing."""

from __future__ import annotations

from pathlib import Path

from tests.integration.chaos import (
    SENTINEL_FEED,
    EventReader,
    Expected,
    Run,
    Scenario,
    Seen,
)

TEXTS = {
    "a": "The city council of Lviv opened a new bridge over the Poltva river on Monday morning.",
    "c": "Farmers in the south report a record grain harvest despite the long summer drought.",
    "e": "A new exhibition of Ukrainian avant-garde painting opens at the national museum in Kyiv.",
}


def _expected() -> Expected:
    # a, c, e are first-seen units; b duplicates a, d duplicates c.
    group_of = {"a": "a", "b": "a", "c": "c", "d": "c", "e": "e"}
    return Expected(group_of, {k: {"text": v, "kind": "lead"} for k, v in TEXTS.items()})


def _score(reads: list[tuple[str, str]], tmp_path: Path) -> Run:
    run = Run(Scenario("unit"), [], _expected(), tmp_path)
    reader = EventReader("127.0.0.1:1")
    reader.records = [
        Seen(float(i), float(i), float(i), eid, text, "f", "item")
        for i, (eid, text) in enumerate(reads)
    ]
    reader.records.append(Seen(99.0, 99.0, 99.0, "s", "sentinel", SENTINEL_FEED, "s-item"))
    run._score(reader)
    return run


def test_every_group_once_scores_clean(tmp_path: Path) -> None:
    rep = _score([("a", TEXTS["a"]), ("d", "x"), ("e", TEXTS["e"])], tmp_path).report
    assert (rep.lost_groups, rep.read_twice, rep.extra_in_group, rep.unknown_event_ids) == (
        0,
        0,
        0,
        0,
    )
    assert rep.read_records == 3  # the sentinel is not counted


def test_lost_group_repeat_extra_and_unknown_are_counted(tmp_path: Path) -> None:
    reads = [("a", TEXTS["a"]), ("a", TEXTS["a"]), ("b", "copy"), ("zz", "?")]
    rep = _score(reads, tmp_path).report
    assert rep.lost_groups == 2  # c and e: neither they nor a duplicate of theirs was read
    assert rep.read_twice == 1
    assert rep.extra_in_group == 1  # a and b both represent group a
    assert rep.unknown_event_ids == 1


def test_missing_group_absorbed_by_a_near_duplicate_is_not_lost(tmp_path: Path) -> None:
    # Group e is missing, but an event read under another id carries e's text (order effect).
    rep = _score([("a", TEXTS["a"]), ("c", TEXTS["c"]), ("zz", TEXTS["e"])], tmp_path).report
    assert rep.lost_groups == 0
    assert rep.lost_reordered == 1
