"""NEWS_COMPRESSION: validated at load, and what the producers are given."""

from __future__ import annotations

import pytest

from streams import settings as settings_mod
from streams.kafka import compression_type


def test_compression_maps_to_aiokafka_compression_type() -> None:
    assert compression_type(settings_mod.load({})) is None  # consumers need no codec
    assert compression_type(settings_mod.load({"NEWS_COMPRESSION": "zstd"})) == "zstd"
    assert compression_type(settings_mod.load({"NEWS_COMPRESSION": "lz4"})) == "lz4"
    assert compression_type(settings_mod.load({"NEWS_COMPRESSION": "none"})) is None


def test_unknown_compression_is_rejected() -> None:
    with pytest.raises(settings_mod.SettingsError, match="NEWS_COMPRESSION"):
        settings_mod.load({"NEWS_COMPRESSION": "brotli"})
