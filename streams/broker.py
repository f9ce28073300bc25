"""The embedded single-node Apache Kafka broker (KRaft, broker + controller in one JVM).

No Docker and no tarball: the jars come from Maven Central through ``deploy/kafka/pom.xml``
(``mvn dependency:copy-dependencies``) into ``<cache_dir>/kafka-<version>/libs`` on first use,
and the broker runs as ``java -cp 'libs/*' kafka.Kafka server.properties``.

Everything the broker owns lives in its ``data_dir``::

    server.properties   rewritten on every start (ports may change; the cluster id may not)
    kraft/              log.dirs: formatted once with ``kafka.tools.StorageTool``, then reused
    broker.log          JVM stdout+stderr (appended; each start writes a header line)
    broker.pid          pid of the running JVM (also its process-group id)

The pid file makes the broker usable across processes: ``python -m streams.broker start`` in
one shell, ``python -m streams.broker stop`` in another.

``start()`` while a broker from the same ``data_dir`` is already running and answering on the
same bootstrap address is a **no-op** (idempotent, so ``make run`` can be re-run); if that
process answers elsewhere (settings changed) it is an error that says to stop it first.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import contextlib
import fcntl
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from streams.settings import BROKER_JVM_OPTS, Settings

POM = Path(__file__).resolve().parent.parent / "deploy" / "kafka" / "pom.xml"
"""The POM that lists the broker's classpath (``kafka_2.13`` + one SLF4J binding)."""

COMPLETE_MARKER = ".complete"
"""Written into ``libs/`` after a successful fetch; a ``libs/`` without it is not trusted."""

PID_FILE = "broker.pid"
LOG_FILE = "broker.log"
PROPS_FILE = "server.properties"
LOG_DIR = "kraft"

MIN_JAVA = 17
"""Kafka 4.x brokers need Java 17 (3.x ran on 11)."""


class BrokerError(RuntimeError):
    """The embedded broker could not be fetched, started or stopped; the message says why."""


def _say(msg: str) -> None:
    print(f"[broker] {msg}", file=sys.stderr, flush=True)


def _kafka_uuid() -> str:
    """A random Kafka ``Uuid`` as ``StorageTool random-uuid`` prints it (22 base64url chars)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka avoids ids that look like a CLI option
            return text


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def find_java() -> str:
    """Path of a ``java`` >= 17, or a :class:`BrokerError` naming what to install."""
    java = shutil.which("java")
    if java is None:
        raise BrokerError(
            "java not found on PATH: the embedded Kafka broker needs Java 17 or newer "
            "(Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless)"
        )
    out = subprocess.run(
        [java, "-version"], capture_output=True, text=True, check=False, timeout=60
    ).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if match:
        major = int(match.group(1))
        if major == 1 and match.group(2):  # "1.8.0_…"
            major = int(match.group(2))
        if major < MIN_JAVA:
            raise BrokerError(
                f"{java} is Java {major}; Kafka 4.x needs Java {MIN_JAVA} or newer "
                "(Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless)"
            )
    return java


def find_mvn() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError(
            "mvn not found on PATH: Maven fetches the Kafka jars from Maven Central on first use "
            "(Debian/Ubuntu: apt-get install -y maven)"
        )
    return mvn


@dataclass(frozen=True)
class BrokerSecurity:
    """Extra secured listeners for tests and demos of ``NEWS_KAFKA_SECURITY_PROTOCOL``.

    The PLAINTEXT listener stays (inter-broker traffic and ``bootstrap``); beside it a
    ``SASL_SSL`` listener (SCRAM-SHA-256/512 users created at format time, PLAIN users from the
    JAAS line) and an ``SSL`` listener that requires a client certificate (mutual TLS). The
    keystore and truststore are PKCS#12 files (e.g. made with ``openssl pkcs12`` and ``keytool``).
    """

    keystore: Path
    truststore: Path
    store_password: str
    sasl_ssl_port: int | None = None
    ssl_port: int | None = None
    users: dict[str, str] = dataclass_field(default_factory=dict)
    """user name -> password, for every SASL mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)."""

    def ports(self) -> list[int]:
        return [p for p in (self.sasl_ssl_port, self.ssl_port) if p]


def _jaas_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class EmbeddedBroker:
    """One local Kafka node (KRaft combined mode) bound to 127.0.0.1."""

    def __init__(
        self,
        *,
        port: int,
        controller_port: int,
        data_dir: Path,
        cache_dir: Path,
        kafka_version: str,
        heap: str = "512m",
        partitions: int = 6,
        pom: Path = POM,
        security: BrokerSecurity | None = None,
        die_with_parent: bool = False,
        jvm_opts: str = BROKER_JVM_OPTS,
    ) -> None:
        if port == controller_port:
            raise BrokerError(f"broker port and controller port must differ (both {port})")
        self.port = port
        self.controller_port = controller_port
        self.data_dir = Path(data_dir).expanduser().absolute()
        self.cache_dir = Path(cache_dir).expanduser().absolute()
        self.kafka_version = kafka_version
        self.heap = heap
        self.partitions = partitions
        self.pom = pom
        self.security = security
        self.die_with_parent = die_with_parent
        self.jvm_opts = jvm_opts
        """Linux: the kernel SIGTERMs the JVM when the thread that started it dies (``run``)."""
        self._proc: subprocess.Popen[bytes] | None = None

    # ----------------------------------------------------------------- paths & properties

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def sasl_ssl_bootstrap(self) -> str | None:
        sec = self.security
        return f"127.0.0.1:{sec.sasl_ssl_port}" if sec and sec.sasl_ssl_port else None

    @property
    def ssl_bootstrap(self) -> str | None:
        sec = self.security
        return f"127.0.0.1:{sec.ssl_port}" if sec and sec.ssl_port else None

    @property
    def libs_dir(self) -> Path:
        return self.cache_dir / f"kafka-{self.kafka_version}" / "libs"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / PID_FILE

    @property
    def log_file(self) -> Path:
        return self.data_dir / LOG_FILE

    @property
    def props_file(self) -> Path:
        return self.data_dir / PROPS_FILE

    @property
    def log_dir(self) -> Path:
        return self.data_dir / LOG_DIR

    def server_properties(self) -> dict[str, str]:
        """The broker configuration: one combined broker+controller node, static quorum."""
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.log_dir),
            "num.partitions": str(self.partitions),
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # We create topics explicitly (streams.admin); Faust declares its own internal
            # topics through the admin API, which does not need auto-creation either.
            "auto.create.topics.enable": "false",
            "delete.topic.enable": "true",
            # Small, quick-to-load internal topics: this is a laptop/CI broker.
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.num.partitions": "10",
            # On restart the controller keeps the previous incarnation's broker session until
            # it times out, and the new broker waits for that (9 s by default) before it is
            # unfenced: a short session makes warm restarts take ~3 s instead of ~12 s.
            "broker.heartbeat.interval.ms": "500",
            "broker.session.timeout.ms": "3000",
            "num.network.threads": "2",
            "num.io.threads": "4",
        }
        if int(self.kafka_version.split(".")[0]) >= 4:
            props["share.coordinator.state.topic.replication.factor"] = "1"
            props["share.coordinator.state.topic.min.isr"] = "1"
        if self.security is not None:
            props.update(self._security_properties(self.security))
        return props

    def _security_properties(self, sec: BrokerSecurity) -> dict[str, str]:
        listeners: list[str] = []
        protocol_map = ["CONTROLLER:PLAINTEXT", "PLAINTEXT:PLAINTEXT"]
        props = {
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(Path(sec.keystore).absolute()),
            "ssl.keystore.password": sec.store_password,
            "ssl.key.password": sec.store_password,
            "ssl.truststore.type": "PKCS12",
            "ssl.truststore.location": str(Path(sec.truststore).absolute()),
            "ssl.truststore.password": sec.store_password,
        }
        if sec.sasl_ssl_port:
            listeners.append(f"SASL_SSL://127.0.0.1:{sec.sasl_ssl_port}")
            protocol_map.append("SASL_SSL:SASL_SSL")
            mechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
            props["sasl.enabled.mechanisms"] = ",".join(mechanisms)
            plain_users = " ".join(
                f"user_{name}={_jaas_quote(pw)}" for name, pw in sorted(sec.users.items())
            )
            props["listener.name.sasl_ssl.plain.sasl.jaas.config"] = (
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
            )
            for mech in mechanisms[1:]:
                props[f"listener.name.sasl_ssl.{mech.lower()}.sasl.jaas.config"] = (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;"
                )
        if sec.ssl_port:
            listeners.append(f"SSL://127.0.0.1:{sec.ssl_port}")
            protocol_map.append("SSL:SSL")
            props["listener.name.ssl.ssl.client.auth"] = "required"
        props["listeners"] = ",".join(
            [
                f"PLAINTEXT://127.0.0.1:{self.port}",
                f"CONTROLLER://127.0.0.1:{self.controller_port}",
                *listeners,
            ]
        )
        props["advertised.listeners"] = ",".join([f"PLAINTEXT://127.0.0.1:{self.port}", *listeners])
        props["listener.security.protocol.map"] = ",".join(protocol_map)
        return props

    def _write_properties(self) -> None:
        lines = ["# written by streams.broker on every start; edits are overwritten"]
        lines += [f"{k}={v}" for k, v in self.server_properties().items()]
        tmp = self.props_file.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(self.props_file)

    # ----------------------------------------------------------------------------- jars

    def jars_present(self) -> bool:
        return (self.libs_dir / COMPLETE_MARKER).is_file()

    def ensure_jars(self) -> Path:
        """The ``libs`` directory with every broker jar, fetched with Maven on first use.

        A lock file beside it serialises concurrent fetches (two test sessions, CI + dev):
        the second process waits and then finds the jars present.
        """
        if self.jars_present():
            return self.libs_dir
        home = self.libs_dir.parent
        home.mkdir(parents=True, exist_ok=True)
        with open(home.parent / f"kafka-{self.kafka_version}.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                _say(f"another process is fetching Kafka {self.kafka_version} jars; waiting…")
                fcntl.flock(lock, fcntl.LOCK_EX)
            if self.jars_present():
                return self.libs_dir
            self._fetch()
        return self.libs_dir

    def _fetch(self) -> None:
        mvn = find_mvn()
        if not self.pom.is_file():
            raise BrokerError(f"{self.pom} not found: run from a checkout of news-streams")
        tmp = self.libs_dir.with_name(f"libs.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        _say(
            f"fetching Kafka {self.kafka_version} jars from Maven Central into {self.libs_dir} "
            "(first use only; ~40 MB, Maven caches in ~/.m2)…"
        )
        started = time.monotonic()
        cmd = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(self.pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={tmp}",
            f"-Dkafka.version={self.kafka_version}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        jars = sorted(tmp.glob("*.jar")) if tmp.is_dir() else []
        if proc.returncode != 0 or not any(j.name.startswith("kafka_2.13-") for j in jars):
            shutil.rmtree(tmp, ignore_errors=True)
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
            raise BrokerError(
                f"fetching Kafka {self.kafka_version} jars failed (mvn exit {proc.returncode}); "
                f"command: {' '.join(cmd)}\n{tail}"
            )
        (tmp / COMPLETE_MARKER).write_text(f"{self.kafka_version}\n")
        shutil.rmtree(self.libs_dir, ignore_errors=True)
        tmp.replace(self.libs_dir)
        _say(
            f"fetched {len(jars)} jars for Kafka {self.kafka_version} "
            f"in {time.monotonic() - started:.1f}s"
        )

    # --------------------------------------------------------------------------- storage

    def is_formatted(self) -> bool:
        return (self.log_dir / "meta.properties").is_file()

    def _format(self, java: str) -> None:
        cluster_id = _kafka_uuid()
        _say(f"formatting KRaft storage {self.log_dir} (cluster id {cluster_id})")
        cmd = [
            java,
            "-Xmx256m",
            "-cp",
            f"{self.libs_dir}/*",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.props_file),
            "--ignore-formatted",
        ]
        if self.security is not None:
            for name, password in sorted(self.security.users.items()):
                for mech in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
                    cmd += ["--add-scram", f"{mech}=[name={name},password={password}]"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
        if proc.returncode != 0 or not self.is_formatted():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
            raise BrokerError(f"formatting {self.log_dir} failed (exit {proc.returncode}):\n{tail}")

    # ------------------------------------------------------------------------- lifecycle

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _running_pid(self) -> int | None:
        """Pid of the live JVM started for this ``data_dir``, else ``None`` (stale file removed)."""
        pid = self._read_pid()
        if pid is None:
            return None
        cmd = _cmdline(pid)
        if _pid_alive(pid) and (not cmd or str(self.props_file) in cmd):
            return pid
        # Dead, a zombie, or the pid was reused by something else: the file is stale.
        if self._proc is not None and self._proc.pid == pid:
            self._proc.poll()
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()
        return None

    def _log_tail(self, offset: int = 0, lines: int = 40) -> str:
        try:
            with open(self.log_file, "rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return "(no broker log)"
        return "\n".join(text.strip().splitlines()[-lines:])

    def start(self, timeout: float = 60) -> None:
        """Start the broker and return once it answers a Kafka Metadata request.

        Formats the storage on first start only; later starts reuse the data (topics,
        offsets, records survive). A no-op if this ``data_dir``'s broker is already up here.
        """
        running = self._running_pid()
        if running is not None:
            if _probe(self.bootstrap, timeout=5):
                _say(f"already running (pid {running}) at {self.bootstrap}")
                return
            raise BrokerError(
                f"a broker for {self.data_dir} is already running (pid {running}) but does not "
                f"answer at {self.bootstrap}; stop it first (python -m streams.broker stop)"
            )
        extra_ports = self.security.ports() if self.security else []
        for p in (self.port, self.controller_port, *extra_ports):
            if _port_in_use(p):
                raise BrokerError(
                    f"port 127.0.0.1:{p} is already in use by another process; "
                    "choose other ports (NEWS_BROKER_PORT / NEWS_BROKER_CONTROLLER_PORT)"
                )
        java = find_java()
        libs = self.ensure_jars()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_properties()
        if not self.is_formatted():
            self._format(java)
        log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        cmd = [
            java,
            f"-Xmx{self.heap}",
            f"-Xms{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            *shlex.split(self.jvm_opts),
            "-Djava.awt.headless=true",
            "-Dorg.slf4j.simpleLogger.showDateTime=true",
            "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS",
            # Every client/broker config dump is ~300 lines; keep the log readable.
            "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.common.config.AbstractConfig=warn",
            "-cp",
            f"{libs}/*",
            "kafka.Kafka",
            str(self.props_file),
        ]
        started = time.monotonic()
        with open(self.log_file, "ab") as log:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            log.write(f"\n==== {stamp} streams.broker start: {' '.join(cmd)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,  # own process group: stop() signals the whole group
                preexec_fn=die_with_parent if self.die_with_parent else None,
            )
        pid = self._proc.pid
        self.pid_file.write_text(f"{pid}\n")
        deadline = started + timeout
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                with contextlib.suppress(FileNotFoundError):
                    self.pid_file.unlink()
                raise BrokerError(
                    f"Kafka broker exited with code {code} during startup; "
                    f"{self.log_file} ends with:\n{self._log_tail(log_offset)}"
                )
            if _port_in_use(self.port) and _probe(self.bootstrap, timeout=5):
                break
            if time.monotonic() > deadline:
                tail = self._log_tail(log_offset)
                self.stop()
                raise BrokerError(
                    f"Kafka broker did not answer at {self.bootstrap} within {timeout:.0f}s; "
                    f"{self.log_file} ends with:\n{tail}"
                )
            time.sleep(0.2)
        _say(
            f"Kafka {self.kafka_version} up at {self.bootstrap} (pid {pid}) "
            f"in {time.monotonic() - started:.1f}s; log {self.log_file}"
        )

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the broker's process group (controlled shutdown), SIGKILL after ``timeout``."""
        pid = self._running_pid()
        if pid is None:
            if self._proc is not None:
                self._proc.poll()
            return
        started = time.monotonic()
        self._signal(pid, signal.SIGTERM)
        if not self._wait_gone(pid, timeout):
            _say(f"broker pid {pid} ignored SIGTERM for {timeout:.0f}s; sending SIGKILL")
            self._signal(pid, signal.SIGKILL)
            if not self._wait_gone(pid, 10):
                raise BrokerError(f"broker pid {pid} survived SIGKILL")
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()
        _say(f"stopped broker pid {pid} in {time.monotonic() - started:.1f}s")

    @staticmethod
    def _signal(pid: int, sig: signal.Signals) -> None:
        try:
            if os.getpgid(pid) == pid:  # we started it as a session/group leader
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                try:
                    self._proc.wait(timeout=0.1)  # our child: reap it, no zombie left
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not _pid_alive(pid):
                return True
            time.sleep(0.1)
        return False

    def status(self) -> dict[str, Any]:
        pid = self._running_pid()
        return {
            "running": pid is not None,
            "pid": pid,
            "bootstrap": self.bootstrap,
            "data_dir": str(self.data_dir),
            "kafka_version": self.kafka_version,
            "formatted": self.is_formatted(),
            "jars": str(self.libs_dir) if self.jars_present() else None,
            "log": str(self.log_file),
        }

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def die_with_parent() -> None:
    """preexec_fn: ask the kernel for SIGTERM when our parent (thread) dies (Linux only)."""
    import ctypes

    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _probe(bootstrap: str, timeout: float) -> bool:
    """True if the broker answers a Metadata request listing itself (i.e. it is unfenced).

    Runs aiokafka on a private event loop in a worker thread, so it works from sync code
    and from inside a running event loop (pytest-asyncio fixtures, ``news-streams run``).
    """
    from streams.admin import describe_cluster

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(asyncio.run, describe_cluster(bootstrap, timeout=timeout))
        try:
            info = future.result(timeout=timeout + 5)
        except Exception:
            return False
    return bool(info.get("brokers"))


def broker_from_settings(
    settings: Settings, *, heap: str = "512m", die_with_parent: bool = False
) -> EmbeddedBroker:
    """The embedded broker the settings describe; its data lives in ``<data_dir>/kafka``."""
    return EmbeddedBroker(
        port=settings.broker_port,
        controller_port=settings.broker_controller_port,
        data_dir=settings.data_dir / "kafka",
        cache_dir=settings.cache_dir,
        kafka_version=settings.kafka_version,
        heap=heap,
        partitions=settings.partitions,
        die_with_parent=die_with_parent,
        jvm_opts=settings.broker_jvm_opts,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m streams.broker {fetch,start,stop,status}`` (``news-streams broker`` calls it)."""
    from streams import settings as settings_mod

    parser = argparse.ArgumentParser(prog="news-streams broker", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["fetch", "start", "stop", "status"])
    parser.add_argument("--timeout", type=float, default=None, help="seconds (start: 60, stop: 30)")
    args = parser.parse_args(argv)
    broker = broker_from_settings(settings_mod.load())
    try:
        if args.action == "fetch":
            find_java()
            print(broker.ensure_jars())
        elif args.action == "start":
            broker.start(timeout=args.timeout or 60)
            print(broker.bootstrap)
        elif args.action == "stop":
            broker.stop(timeout=args.timeout or 30)
        else:
            for key, value in broker.status().items():
                print(f"{key}: {value}")
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
