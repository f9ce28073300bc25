"""The label loader keeps check batches out of the data; the agreement figures count right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.label_agreement import Pair, agreement, pair_up, report
from bench.labelled import CHECK_BATCHES, label_refs


def _write(path: Path, *rows: dict[str, object]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_check_batches_are_not_data(tmp_path: Path) -> None:
    _write(tmp_path / "batch-a.jsonl", {"url": "u1", "n": 2, "labels": "TL", "by": "batch-a"})
    _write(tmp_path / "batch-d.jsonl", {"url": "dev1", "n": 1, "labels": "L", "by": "batch-d"})
    _write(tmp_path / "batch-e.jsonl", {"url": "u1", "n": 2, "labels": "LL", "by": "batch-e"})
    assert {"batch-d", "batch-e"} <= CHECK_BATCHES
    assert [r["url"] for r in label_refs(tmp_path)] == ["u1"]
    assert [r["by"] for r in label_refs(tmp_path, checks=True)] == ["batch-d", "batch-e"]


def test_pair_up_leaves_out_misaligned(capsys: pytest.CaptureFixture[str]) -> None:
    refs = [{"url": "a", "labels": "TLLS"}, {"url": "b", "labels": "LL"}]
    checks = [
        {"url": "a", "labels": "TLBS"},
        {"url": "b", "labels": "LLL"},
        {"url": "c", "labels": "L"},
    ]
    pairs = pair_up(refs, checks, {"a": "uk"})
    assert pairs == [Pair("a", "uk", "TLLS", "TLBS")]
    err = capsys.readouterr().err
    assert "b: 2 vs 3 labels" in err and "c: no reference" in err


def test_agreement_figures() -> None:
    pairs = [Pair("a", "uk", "TLLLS", "TLLBS"), Pair("b", "ru", "LLS", "LLL")]
    a = agreement(pairs)
    assert (a["paragraphs"], a["agree"], a["identical_excerpts"]) == (8, 6, 0)
    assert a["confusion"] == {"LB": 1, "LL": 4, "SL": 1, "SS": 1, "TT": 1}
    # lead: the check says L 5 times, 4 right; the reference has 5 L
    assert (a["lead"]["tp"], a["lead"]["pred"], a["lead"]["gold"]) == (4, 5, 5)
    assert a["teasers"]["p"] == 1.0 and a["teasers"]["r"] == 0.5
    by = report(pairs)["by_lang"]
    assert by["ru"]["agreement"] == round(2 / 3, 4) and by["uk"]["agreement"] == 0.8


def test_reader_check_scores_reader_and_model_on_the_same_items() -> None:
    from bench.reader_check import score

    items = [
        {"id": "a", "gold": "TLLSS", "pred": "TLLLS"},
        {"id": "b", "gold": "BLLS", "pred": "BLSS"},
        {"id": "c", "gold": "LLS", "pred": "LLS"},  # not labelled by the reader: left out
    ]
    res = score(items, {"a": "TLLSS", "b": "BTLS"})
    assert res["items"] == 2
    lead = res["reader"]["lead"]  # the title it saw in "b" is not lead...
    assert (lead["tp"], lead["pred"] - lead["tp"], lead["gold"] - lead["tp"]) == (3, 0, 1)
    assert res["reader"]["story"]["f1"] == 1.0  # ...but it is story
    assert res["reader"]["exact_items"] == 1
    lead = res["model"]["lead"]
    assert (lead["tp"], lead["pred"] - lead["tp"], lead["gold"] - lead["tp"]) == (3, 1, 1)
    assert res["model"]["teasers"]["f1"] == round(2 * 2 / (2 * 2 + 1 + 1), 4)
    with pytest.raises(ValueError, match="3 labels for 4 paragraphs"):
        score(items, {"b": "BLS"})


def test_reader_labels_are_references_only() -> None:
    """The reader's files keep item ids and labels, never the texts they read."""
    from bench.reader_check import READER_DIR

    rows = [
        json.loads(line)
        for path in sorted(READER_DIR.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert rows
    for r in rows:
        assert set(r) == {"id", "n", "labels", "by"}
        assert len(r["labels"]) == r["n"] and set(r["labels"]) <= set("TLSB")
