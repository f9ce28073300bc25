"""README stays true: its settings table is the generated one, and CI runs its test command."""

from __future__ import annotations

from pathlib import Path

from streams.settings import markdown_table

ROOT = Path(__file__).resolve().parents[2]


def test_readme_settings_table_is_generated_from_settings() -> None:
    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "make run" in first_block and "make test" in first_block
    assert "make test" in ci
