"""The split-item builder, the site folds and the constrained decode, on invented records."""

from __future__ import annotations

import itertools
import json
import math
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.labelled import iter_fold_splits
from bench.split_items import build_items
from streams.text.split import HandScorer, LinearScorer, rules, split_text
from streams.text.split.features import unit_features
from streams.text.split.model import decode, default_scorer


def _records() -> list[dict[str, Any]]:
    out = []
    for i in range(12):
        site = f"site{i % 5}.example"
        paras = [
            f"Заголовок новини номер {i}",
            f"Перший абзац історії {i}. У місті {i} сталася подія, про яку розповіли.",
            f"Другий абзац історії {i} з подробицями.",
            "Фото: пресслужба",
        ]
        out.append(
            {
                "rid": f"r{i}",
                "url": f"https://{site}/n/{i}",
                "site": site,
                "lang": "uk" if i % 3 else "ru",
                "paras": paras,
                "labels": "TLLB",
            }
        )
    return out


def test_builder_is_deterministic_and_gold_comes_from_the_records() -> None:
    recs = _records()
    a = build_items(recs, seed=3, variants=2)
    assert a == build_items(recs, seed=3, variants=2)
    assert a != build_items(recs, seed=4, variants=2)
    texts = {p for r in recs for p in r["paras"]}
    for row in a:
        gold = row["gold"]
        body = row.get("text") or row["html"]
        for t in [*gold["lead"], *gold["teasers"], *gold["boilerplate"]]:
            # a teaser may be the first sentence(s) of a paragraph, never new text
            assert any(t == p or p.startswith(t) for p in texts)
            assert t.split()[0] in body
        own = next(r for r in recs if row["id"].startswith(str(r["rid"]) + "-"))
        for t in gold["teasers"]:
            assert t not in own["paras"]


def test_held_out_items_use_held_out_records_only() -> None:
    recs = _records()
    for fit, held in iter_fold_splits(recs, 3):
        assert not {recs[i]["site"] for i in fit} & {recs[i]["site"] for i in held}
        hr = [recs[i] for i in held]
        allowed = {p for r in hr for p in r["paras"]}
        for row in build_items(hr, hr, seed=1):
            for t in row["gold"]["teasers"]:
                assert any(t == p or p.startswith(t) for p in allowed)


def test_decode_allows_one_title_and_only_before_the_story() -> None:
    trans = [[0.0] * 4 for _ in range(4)]
    start = [0.0] * 4
    # Every unit would rather be a title: one is, and only boilerplate comes before it.
    roles = decode([[5.0, 0.0, 0.0, 0.0]] * 4, trans, start)
    assert roles.count(0) == 1
    assert all(r == 3 for r in roles[: roles.index(0)])
    # Boilerplate may precede the title.
    roles = decode([[0.0, 0.0, 0.0, 5.0], [5.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 0.0]], trans, start)
    assert roles == [3, 0, 1]
    # Exhaustive check against brute force on small sequences.
    scores = [[0.3, 1.0, -0.5, 0.2], [0.9, 0.1, 0.4, 0.0], [1.2, 0.2, 0.8, 0.1]]
    best = max(
        (
            seq
            for seq in itertools.product(range(4), repeat=3)
            if all(r != 0 or all(p == 3 for p in seq[:i]) for i, r in enumerate(seq))
        ),
        key=lambda seq: sum(scores[i][r] for i, r in enumerate(seq)),
    )
    assert decode(scores, trans, start) == list(best)


def test_packaged_model_loads_and_hand_rules_remain_available() -> None:
    assert default_scorer().name == "model"
    doc = "Перший абзац новини про ремонт мосту в Одесі.\nДругий абзац про ремонт мосту."
    assert split_text(doc, scorer=HandScorer()).lead == doc.split("\n")


_F = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.lists(_F, min_size=4, max_size=4), min_size=1, max_size=5),
    trans=st.lists(st.lists(_F, min_size=4, max_size=4), min_size=4, max_size=4),
    start=st.lists(_F, min_size=4, max_size=4),
)
def test_decode_is_the_best_sequence_under_the_grammar(
    scores: list[list[float]], trans: list[list[float]], start: list[float]
) -> None:
    """The unrolled Viterbi finds a best-scoring sequence among all the grammar allows."""

    def total(seq: tuple[int, ...]) -> float:
        v = start[seq[0]] + scores[0][seq[0]]
        for i in range(1, len(seq)):
            v += trans[seq[i - 1]][seq[i]] + scores[i][seq[i]]
        return v

    allowed = [
        seq
        for seq in itertools.product(range(4), repeat=len(scores))
        if all(r != 0 or all(p == 3 for p in seq[:i]) for i, r in enumerate(seq))
    ]
    got = tuple(decode(scores, trans, start))
    assert got in allowed
    assert total(got) >= max(map(total, allowed)) - 1e-9


def test_scorer_scores_equal_the_sparse_features_dot_product() -> None:
    """The scorer's dense/memoised path gives the scores the training features define."""
    sc = default_scorer()
    assert isinstance(sc, LinearScorer)
    weights = json.loads(
        resources.files("streams.text.split").joinpath("model.json").read_text(encoding="utf-8")
    )
    w, bias = weights["weights"], weights["bias"]
    docs = [
        "Заголовок про ремонт мосту\nПерший абзац новини про ремонт мосту в Одесі. Роботи тривають."
        "\nДругий абзац про ремонт мосту.\nФото: пресслужба\nУ Львові відкрили нову бібліотеку."
        "\nУ Львові відкрили нову бібліотеку.\nКабмін змінив порядок виплат.",
        "Breaking: storm hits the coast\nThe storm made landfall on Monday.\nIt was strong."
        "\nRead also: Markets fall\nElection results due on Friday.",
    ]
    for doc in docs:
        lines = [ln for ln in doc.split("\n") if ln]
        units, title, title_stems = rules.prepare(lines, None)
        rules._assign(units, title_stems, stop_at_hard=False)
        fast = sc.unit_scores(units, None, title)
        for fs, got in zip(unit_features(units, None, title), fast, strict=True):
            assert (fs is None) == (got is None)
            if fs is None or got is None:
                continue
            acc = list(bias)
            for name, v in fs:
                for r in range(4):
                    acc[r] += w.get(name, [0.0] * 4)[r] * v
            m = max(acc)
            z = m + math.log(sum(math.exp(a - m) for a in acc))
            assert got == pytest.approx([a - z for a in acc], abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="фотоshare телеграмviber©@.comua ї'’-", max_size=40),
    words=st.sampled_from(
        [rules._CREDIT_ANY_WORDS, rules._SOCIAL_WORDS, rules._SUBSCRIBE_WORDS, rules._APPEAL_WORDS]
    ),
)
def test_any_of_is_a_substring_test(text: str, words: tuple[str, ...]) -> None:
    """The Aho-Corasick pre-filter answers exactly "one of the words occurs in the text"."""
    assert rules._any_of(words)(text) == rules._has_any(text, words)
    for w in words:
        assert rules._any_of(words)(text + w)


def _crf_problem(seed: int) -> tuple[Any, list[int], list[int]]:
    np = pytest.importorskip("numpy")
    sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(seed)
    lengths = [3, 1, 2]
    n = sum(lengths)
    x = sparse.csr_matrix(rng.random((n, 3)) * (rng.random((n, 3)) > 0.4))
    y = [int(v) for v in rng.integers(0, 4, n)]
    return x, y, lengths


def test_crf_objective_is_the_sequence_likelihood_by_enumeration() -> None:
    """The CRF trainer's loss equals the negative log-likelihood of the gold sequences against
    every role sequence of each item (brute force), plus the L2 terms."""
    np = pytest.importorskip("numpy")
    from bench.crf_split import objective

    x, y, lengths = _crf_problem(3)
    fun, size, unpack = objective(x, y, lengths, c=0.7)
    th = np.random.default_rng(4).normal(size=size) * 0.5
    w, bias, tr, st_ = unpack(th)
    u = np.asarray(x @ w) + bias
    nll, off = 0.0, 0
    for n in lengths:

        def score(seq: tuple[int, ...], off: int = off) -> float:
            s = st_[seq[0]] + u[off, seq[0]]
            for t in range(1, len(seq)):
                s += tr[seq[t - 1], seq[t]] + u[off + t, seq[t]]
            return float(s)

        scores = [score(seq) for seq in itertools.product(range(4), repeat=n)]
        m = max(scores)
        logz = m + math.log(sum(math.exp(s - m) for s in scores))
        nll += logz - score(tuple(y[off : off + n]))
        off += n
    reg = 0.5 * float(np.sum(w**2) + np.sum(tr**2) + bias @ bias + st_ @ st_)
    loss, _ = fun(th)
    assert loss == pytest.approx(0.7 * nll + reg, rel=1e-9)


def test_crf_gradient_matches_finite_differences() -> None:
    np = pytest.importorskip("numpy")
    from bench.crf_split import objective

    x, y, lengths = _crf_problem(5)
    fun, size, _ = objective(x, y, lengths, c=1.3)
    th = np.random.default_rng(6).normal(size=size) * 0.3
    loss, grad = fun(th)
    eps = 1e-6
    num = np.array([(fun(th + eps * np.eye(size)[i])[0] - loss) / eps for i in range(size)])
    assert np.max(np.abs(num - grad)) < 1e-4


def test_an_item_is_never_all_furniture() -> None:
    """A model that scores every paragraph as boilerplate (here: by its bias alone) still leaves
    the item its likeliest story paragraph as the lead; with a paragraph the rules fix as
    furniture beside it, that one stays furniture."""
    zero = [[0.0] * 4 for _ in range(4)]
    furniture_only = LinearScorer(
        {"weights": {}, "bias": [-9.0, -5.0, -9.0, 5.0], "trans": zero, "start": [0.0] * 4}
    )
    story = 'Ексклюзивне інтерв\'ю директора водоканалу Андрія Левченка агентству "Житомир-Інфо"'
    res = split_text(story, scorer=furniture_only)
    assert res.lead == [story] and not res.boilerplate
    res = split_text(story + "\nФото: пресслужба", scorer=furniture_only)
    assert res.lead == [story] and res.boilerplate == ["Фото: пресслужба"]
