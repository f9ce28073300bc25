"""``news-streams run`` owns its children: stopped by a signal, or when the pipe it writes into
loses its reader, it leaves no process and no listening port behind.

Each case starts the real thing (embedded broker, worker subprocess, poller, live view) with
stdout into a pipe that this test reads and then closes (as ``make run | tee log`` does when the
terminal's Ctrl-C kills ``tee`` too), then sends the signal. Plain mode (stdout not a terminal)
must show feed errors, duplicates and tags.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from streams.feeds.devserver import FeedServer
from tests.integration.conftest import free_ports

ROOT = Path(__file__).resolve().parents[2]
RUN = [sys.executable, "-m", "streams.cli", "run"]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie leader still counts as a group member until reaped; only live ones matter.
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _procs_using(marker: str) -> list[str]:
    """Live processes whose environment mentions ``marker`` (our unique data dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(f"{entry.name}: {(entry / 'cmdline').read_bytes()[:120]!r}")
        except OSError:
            continue
    return found


async def _read_until(fd: int, buf: bytearray, pattern: re.Pattern[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            chunk = None
        if chunk == b"":
            return False  # writer gone
        if chunk:
            buf.extend(chunk)
            if pattern.search(buf.decode(errors="replace")):
                return True
        await asyncio.sleep(0.2)
    return False


@pytest.mark.timeout(300)
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGHUP", "pipe-closed", "SIGKILL"])
async def test_run_leaves_nothing_behind(how: str, tmp_path: Path) -> None:
    broker_port, controller_port, web_port, metrics_port, dead_port = free_ports(5)
    data_dir = tmp_path / "var"
    async with FeedServer(trickle_s=1.0, trickle_initial=3) as server:
        server.load_default_feeds(samples_only=True)
        feeds = yaml.safe_load(server.feeds_yaml(interval_s=2.0))["feeds"]
        feeds += [
            {"id": "gone-404", "url": server.url("test/status/404"), "interval_s": 2.0},
            {"id": "nobody-home", "url": f"http://127.0.0.1:{dead_port}/rss", "interval_s": 2.0},
        ]
        feeds_file = tmp_path / "feeds.yaml"
        feeds_file.write_text(yaml.safe_dump({"feeds": feeds}))
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
        env.update(
            NEWS_DATA_DIR=str(data_dir),
            NEWS_BROKER_PORT=str(broker_port),
            NEWS_BROKER_CONTROLLER_PORT=str(controller_port),
            NEWS_WEB_PORT=str(web_port),
            NEWS_METRICS_PORT=str(metrics_port),
            NEWS_ALLOW_PRIVATE_HOSTS="1",
            NEWS_CACHE_DIR=os.environ.get(
                "NEWS_CACHE_DIR", str(Path.home() / ".cache" / "news-streams")
            ),
            PYTHONPATH=str(ROOT),
        )
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        err_path = tmp_path / "run.stderr"
        with err_path.open("wb") as err:
            proc = subprocess.Popen(
                [*RUN, "--feeds", str(feeds_file), "--interval", "2"],
                stdout=write_fd,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=ROOT,
                start_new_session=True,  # like a shell job: the "terminal" signals this group
            )
        os.close(write_fd)
        out = bytearray()
        try:
            if how == "SIGINT":
                # Plain mode shows the same facts as the screen: wait until all of them are in.
                want = re.compile(
                    r"duplicates dropped [1-9].*?top tags: [a-z-]+ \d.*?"
                    r"! gone-404: http_status.*?! nobody-home: \w+",
                    re.S,
                )
                timeout = 180.0
            else:
                want = re.compile(r"feeds: \d+ ok")  # first summary: worker and poller up
                timeout = 120.0
            seen = await _read_until(read_fd, out, want, timeout)
            text = out.decode(errors="replace")
            assert seen, (
                f"no {want.pattern!r} in plain output:\n{text[-3000:]}\n"
                + (err_path.read_text(errors="replace")[-3000:])
            )
            if how == "SIGINT":
                assert "latest [lead" in text or "latest [teaser" in text
            # The reader exits (tee killed by the same Ctrl-C), then the signal arrives.
            os.close(read_fd)
            read_fd = -1
            if how != "pipe-closed":
                os.killpg(proc.pid, getattr(signal, how))
            code = await asyncio.to_thread(proc.wait, 120)
        finally:
            if read_fd >= 0:
                os.close(read_fd)
            if proc.poll() is None:  # test failed: do not leak the stack either
                os.killpg(proc.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(60)
    stderr = err_path.read_text(errors="replace")
    worker_pid = int(re.search(r"worker started \(pid (\d+)", stderr).group(1))  # type: ignore[union-attr]
    broker_pid = int(re.search(r"up at \S+ \(pid (\d+)\)", stderr).group(1))  # type: ignore[union-attr]
    if how == "SIGKILL":
        # No cleanup ran: the kernel's parent-death signal (SIGTERM) stops the children.
        assert code == -signal.SIGKILL
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            _group_alive(worker_pid) or _group_alive(broker_pid)
        ):
            await asyncio.sleep(0.5)
    else:
        assert code == 0, stderr[-3000:]
        assert "stopping worker" in stderr and "stopped broker pid" in stderr, stderr[-3000:]
        if how == "pipe-closed":
            assert "stopping: output closed" in stderr, stderr[-3000:]
        else:
            assert f"stopping: {how}" in stderr, stderr[-3000:]
    # Helpers of a group can outlive its leader by a moment (multiprocessing's resource tracker
    # exits when it sees its parent's pipe close): allow them a few seconds, not more.
    deadline = time.monotonic() + 10
    groups = (("worker", worker_pid), ("broker", broker_pid), ("run", proc.pid))
    while time.monotonic() < deadline and any(_group_alive(g) for _, g in groups):
        await asyncio.sleep(0.2)
    for name, pgid in groups:
        assert not _group_alive(pgid), f"{name} process group {pgid} survived"
    assert _procs_using(str(data_dir)) == []
    for port in (broker_port, controller_port, web_port, metrics_port):
        assert not _listening(port), f"port {port} still listening"
