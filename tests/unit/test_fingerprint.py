"""Signatures: decisions on our own uk/ru/en texts, JSON round-trip, key stability, determinism."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.text.fingerprint import STAGES, Signature, is_duplicate, signature

UK = (
    "У вівторок, 14 травня, Кабінет Міністрів ухвалив постанову про нові правила бронювання "
    "працівників критичної інфраструктури, повідомили у пресслужбі «Мінекономіки»."
)
RU = (
    "В среду, 3 апреля, в Харькове из-за обстрела повреждены две подстанции, без света остаются "
    "около сорока тысяч абонентов, сообщил глава областной администрации."
)
EN = (
    "The city council voted on Monday to extend the night bus network to three more districts, "
    "the mayor's office said, citing a sharp rise in late-evening ridership."
)
TRUMP_1 = (
    "Donald Trump said on Friday that he had a productive phone call with Vladimir Putin about a "
    "possible ceasefire, adding that talks would continue next week."
)
TRUMP_2 = (
    "Vladimir Putin told reporters on Friday that Donald Trump's new tariff threats would not "
    "change Moscow's position on the grain deal or on energy exports."
)


def dup(a: str, b: str) -> bool:
    return is_duplicate(signature(a), signature(b)) and is_duplicate(signature(b), signature(a))


@pytest.mark.parametrize("text", [UK, RU, EN])
def test_verbatim_and_cosmetic(text: str) -> None:
    assert dup(text, text)  # the same story at two URLs: identical text
    styled = text.replace("«", '"').replace("»", '"').replace("'", "’").replace(" ", "  ")
    assert signature(styled).exact == signature(text).exact
    assert dup(text, text.replace(",", "").replace(".", "!"))


@pytest.mark.parametrize("text", [UK, RU, EN])
def test_one_word_dropped_or_changed(text: str) -> None:
    words = text.split()
    assert dup(text, " ".join(words[:5] + words[6:]))
    assert dup(text, " ".join([*words[:9], "змінено", *words[10:]]))


def test_date_and_number_changed() -> None:
    assert dup(UK, UK.replace("14 травня", "15 травня"))
    assert dup(RU, RU.replace("3 апреля", "30 апреля"))


@pytest.mark.parametrize("text", [UK, RU, EN])
def test_truncated_teaser_vs_full(text: str) -> None:
    words = text.split()
    for n in (8, 12, len(words) - 3):
        teaser = " ".join(words[:n]) + "…"
        assert signature(teaser).truncated
        assert dup(teaser, text), n
    assert dup(" ".join(words[:10]) + "...", text)


def test_different_stories_same_people() -> None:
    assert not dup(TRUMP_1, TRUMP_2)
    assert not dup(UK, RU)


def test_short_headline_vs_longer_text_starting_the_same() -> None:
    headline = "Кабінет Міністрів ухвалив постанову"
    longer = headline + " про виплати пенсіонерам у прифронтових громадах з першого червня"
    assert not dup(headline, longer)
    # ...but a teaser explicitly cut with an ellipsis matches its full text by prefix.
    assert dup(" ".join(UK.split()[:9]) + "…", UK)


def test_truncated_generic_prefix_too_short() -> None:
    assert not dup("Про це…", UK)


def test_json_round_trip_and_size() -> None:
    for text in [UK, RU, EN, UK[:60] + "…", "", "…", UK * 10]:
        sig = signature(text)
        data = sig.to_json()
        raw = orjson.dumps(data)
        assert len(raw) < 240
        back = Signature.from_json(orjson.loads(raw))
        assert back == sig
        assert len(sig.fingerprint) == 16
        assert len(sig.keys) == STAGES


def test_keys_stable_under_edits() -> None:
    base = signature(UK).keys
    edits = [
        UK.replace("«", '"').replace("»", '"'),
        UK.replace("14", "21"),
        "  " + UK.replace(" ", "   "),
        " ".join(UK.split()[:8]) + "…",
        UK.replace(" нові", ""),  # a word dropped after the stage-0 window
        UK.replace("Кабінет", "Уряд"),  # a word changed inside the stage-0 window
    ]
    for text in edits:
        keys = signature(text).keys
        assert any(k == b for k, b in zip(keys, base, strict=True)), text


def test_lone_surrogate_does_not_raise() -> None:
    assert signature("\ud800 abc").ntokens == 1


@given(st.text(alphabet=st.characters(codec=None)))
def test_signature_never_raises_and_is_deterministic(text: str) -> None:
    a, b = signature(text), signature(text)
    assert a == b
    assert is_duplicate(a, b)
    assert Signature.from_json(orjson.loads(orjson.dumps(a.to_json()))) == a


def test_json_form_is_kept_and_ignored_by_equality() -> None:
    """A signature keeps its JSON form (encoded at every hop); it takes no part in equality."""
    sig = signature("Уряд ухвалив нове рішення щодо підтримки енергетики взимку.")
    first = sig.to_json()
    first.append("mutated")  # callers get a copy
    assert sig.to_json() == sig._encode()
    back = Signature.from_json(sig.to_json())
    assert back == sig and hash(back) == hash(sig)
    assert back.to_json() == sig.to_json()
    plain = Signature(sig.exact, sig.ntokens, sig.truncated, sig.sketch, sig.prefix, sig.keys)
    assert plain == sig and plain.to_json() == sig.to_json()
