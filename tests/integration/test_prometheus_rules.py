"""promtool checks of the alert rules and their unit tests (dashboards/prometheus/)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "dashboards" / "prometheus"
PROMTOOL = shutil.which("promtool") or (
    "/usr/bin/promtool" if Path("/usr/bin/promtool").is_file() else None
)

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(
        PROMTOOL is None,
        reason="promtool not installed (Debian package 'prometheus'; "
        "`make test` installs it via deploy/ensure-test-tools.sh)",
    ),
]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args],
        cwd=RULES_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_promtool_check_rules() -> None:
    result = _promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_test_rules() -> None:
    result = _promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_promtool_check_compose_config(tmp_path: Path) -> None:
    """deploy/prometheus/prometheus.yml is valid once the rule file sits where compose mounts it."""
    text = (ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
    shutil.copy(RULES_DIR / "alerts.yml", tmp_path / "alerts.yml")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        text.replace("/etc/prometheus/rules/alerts.yml", str(tmp_path / "alerts.yml")),
        encoding="utf-8",
    )
    result = _promtool("check", "config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
