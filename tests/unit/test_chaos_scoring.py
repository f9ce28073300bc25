"""The chaos harness's scoring (tests/integration/chaos.py), on made-up reads: a harness that
cannot count a loss or a repeat would make the fault-injection tests pass for nothing."""

from __future__ import annotations

from pathlib import Path

from tests.integration.chaos import (
    SENTINEL_FEED,
    EventReader,
    Expected,
    GroupOffsets,
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


def _offsets(samples: list[tuple[float, dict[int, int]]], end: dict[int, int]) -> GroupOffsets:
    offsets = GroupOffsets("127.0.0.1:1", "g", len(end))
    offsets.samples, offsets.end = samples, end
    return offsets


def test_takeover_waits_for_the_killed_workers_partition() -> None:
    # Kill at t=10. Partition 0 (the survivor's) keeps moving; partition 1 (the killed
    # worker's) shows its last pre-kill commit at t=10.3, then stalls until t=21.
    samples = [
        (9.8, {0: 10, 1: 20}),
        (10.3, {0: 11, 1: 25}),
        (10.8, {0: 12, 1: 25}),
        (12.0, {0: 14, 1: 25}),
        (21.0, {0: 20, 1: 26}),
    ]
    took, stalled = _offsets(samples, {0: 30, 1: 30}).takeover_s(10.0)
    assert took == 11.0  # not 0.3: the late-landing commit of the dead worker is no takeover
    assert stalled == [1]


def test_takeover_is_none_when_a_partition_never_moves_again() -> None:
    samples = [(9.8, {0: 10, 1: 20}), (12.0, {0: 14, 1: 20}), (20.0, {0: 18, 1: 20})]
    took, stalled = _offsets(samples, {0: 30, 1: 30}).takeover_s(10.0)
    assert took is None and stalled == [1]
