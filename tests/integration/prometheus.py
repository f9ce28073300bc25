"""A real Prometheus server for tests (not a test module).

Starts the ``prometheus`` binary (Debian package ``prometheus``; ``deploy/ensure-test-tools.sh``
installs it) on a free 127.0.0.1 port, scraping the given ``host:port`` targets every second, with
its own temporary storage. Usage::

    with PrometheusServer({"news-poller": ["127.0.0.1:9108"]}) as prom:
        prom.wait_for('up{job="news-poller"}', lambda r: bool(r) and value(r[0]) == 1)
        prom.query("news_feed_items_total")

Everything is bound to 127.0.0.1; the process is always stopped (``stop()``, context exit, or at
garbage collection / interpreter exit).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

DEFAULT_BINARY = "/usr/bin/prometheus"
Result = list[dict[str, Any]]


class PrometheusError(RuntimeError):
    """Prometheus failed to start, or a query failed."""


def find_binary() -> str | None:
    """Path of the prometheus server binary, or None when it is not installed."""
    found = shutil.which("prometheus")
    if found:
        return found
    return DEFAULT_BINARY if Path(DEFAULT_BINARY).is_file() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def value(sample: Mapping[str, Any]) -> float:
    """The float value of one instant-vector sample from :meth:`PrometheusServer.query`."""
    return float(sample["value"][1])


def _kill(proc: subprocess.Popen[bytes], tmp: tempfile.TemporaryDirectory[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    tmp.cleanup()


class PrometheusServer:
    """A throw-away Prometheus scraping ``targets`` every ``scrape_interval``.

    ``targets`` is either a list of ``host:port`` (one job named ``job``) or a mapping
    ``{job_name: [host:port, ...]}``. ``rule_files`` are loaded as alerting/recording rules.
    """

    def __init__(
        self,
        targets: Sequence[str] | Mapping[str, Sequence[str]],
        *,
        job: str = "test",
        scrape_interval: str = "1s",
        metrics_path: str = "/metrics",
        rule_files: Sequence[str | Path] = (),
        binary: str | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        if isinstance(targets, Mapping):
            self.jobs = {name: list(ts) for name, ts in targets.items()}
        else:
            self.jobs = {job: list(targets)}
        self.scrape_interval = scrape_interval
        self.metrics_path = metrics_path
        self.rule_files = [str(Path(p).resolve()) for p in rule_files]
        self.binary = binary or find_binary()
        self.startup_timeout = startup_timeout
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._finalizer: weakref.finalize | None = None

    # --- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        return {
            "global": {
                "scrape_interval": self.scrape_interval,
                "scrape_timeout": self.scrape_interval,
                "evaluation_interval": self.scrape_interval,
            },
            "rule_files": self.rule_files,
            "scrape_configs": [
                {
                    "job_name": name,
                    "metrics_path": self.metrics_path,
                    "static_configs": [{"targets": targets}],
                }
                for name, targets in self.jobs.items()
            ],
        }

    def start(self) -> PrometheusServer:
        if self.binary is None:
            raise PrometheusError("prometheus binary not found (apt-get install prometheus)")
        if self._proc is not None:
            raise PrometheusError("already started")
        self._tmp = tempfile.TemporaryDirectory(prefix="news-prometheus-")
        tmp = Path(self._tmp.name)
        config = tmp / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.config(), sort_keys=False), encoding="utf-8")
        self.port = free_port()
        self.log_path = tmp / "prometheus.log"
        log = self.log_path.open("wb")
        try:
            self._proc = subprocess.Popen(
                [
                    self.binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1h",
                    "--log.level=warn",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )
        finally:
            log.close()
        self._finalizer = weakref.finalize(self, _kill, self._proc, self._tmp)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise PrometheusError(
                    f"prometheus exited with {self._proc.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise PrometheusError(
            f"prometheus not ready in {self.startup_timeout}s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except (AttributeError, OSError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server and delete its storage; safe to call more than once."""
        if self._finalizer is not None:
            self._finalizer()  # runs _kill once
        self._proc = None

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- HTTP API -------------------------------------------------------------------------------
    def api(self, path: str, **params: str) -> Any:
        """GET ``/api/v1/<path>`` and return its ``data``; raise on an error status."""
        query = urllib.parse.urlencode(params)
        url = f"{self.url}/api/v1/{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", errors="replace")
            raise PrometheusError(f"{path} {params}: HTTP {err.code}: {detail}") from None
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, expr: str) -> Result:
        """Instant query; returns the result list (``[{"metric": {...}, "value": [t, "v"]}]``).

        A scalar result is returned as one sample with empty labels.
        """
        data = self.api("query", query=expr)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        result: Result = data["result"]
        return result

    def wait_for(
        self,
        expr: str,
        predicate: Callable[[Result], bool] = bool,
        timeout: float = 30.0,
        interval: float = 0.5,
    ) -> Result:
        """Poll ``expr`` until ``predicate(result)`` holds; return that result or raise."""
        deadline = time.monotonic() + timeout
        last: Result = []
        while True:
            last = self.query(expr)
            if predicate(last):
                return last
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{expr!r}: condition not met in {timeout}s; last={last}")
            time.sleep(interval)

    def targets(self) -> list[dict[str, Any]]:
        """Active scrape targets (``/api/v1/targets``)."""
        active: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return active

    def rules(self) -> list[dict[str, Any]]:
        """Loaded rule groups (``/api/v1/rules``)."""
        groups: list[dict[str, Any]] = self.api("rules")["groups"]
        return groups
