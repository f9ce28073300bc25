"""Static checks of the deployment and observability files.

docker-compose.yml, deploy/Dockerfile, deploy/prometheus/prometheus.yml, the alert rules and the
Grafana dashboard must agree with the code: NEWS_* names exist in ``streams.settings.FIELDS``,
scrape targets are compose services on the ports the services are configured with, and every
PromQL expression only uses metric names that some process really exports.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

import streams.metrics
from streams.settings import FIELDS, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
PROM_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
ALERTS = ROOT / "dashboards" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "dashboards" / "grafana" / "news-streams.json"
DASHBOARD_BUILDER = ROOT / "dashboards" / "grafana" / "build_dashboard.py"
PROVISIONING = ROOT / "dashboards" / "grafana" / "provisioning"

APP_SERVICES = ("topics", "poller", "worker-1", "worker-2")
WORKERS = ("worker-1", "worker-2")

#: Prefix of Faust's own sensor metrics: the worker must call
#: ``setup_prometheus_sensors(app, name_prefix=FAUST_PREFIX)``.
FAUST_PREFIX = "faust"

#: Standard metrics of prometheus_client's default process collector (Linux) plus Prometheus' own.
PROCESS_METRICS = frozenset(
    {
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    }
)
PROMETHEUS_BUILTIN = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})

SETTINGS_ENV = frozenset(f.metadata["env"] for f in FIELDS)


# --- helpers ------------------------------------------------------------------------------------
def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = _load_yaml(COMPOSE)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def prom_config() -> dict[str, Any]:
    data = _load_yaml(PROM_CONFIG)
    assert isinstance(data, dict)
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # "KEY=value" form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _setting_default(env_name: str) -> Any:
    for f in FIELDS:
        if f.metadata["env"] == env_name:
            return getattr(Settings(), f.name)
    raise KeyError(env_name)


def news_metric_names() -> set[str]:
    """Series names the ``streams.metrics`` objects expose (with the type's suffixes)."""
    names: set[str] = set()
    for obj in vars(streams.metrics).values():
        if not isinstance(obj, MetricWrapperBase):
            continue
        name, typ = obj._name, obj._type
        if typ == "counter":
            names |= {f"{name}_total", f"{name}_created"}
        elif typ == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"}
        elif typ == "summary":
            names |= {name, f"{name}_sum", f"{name}_count", f"{name}_created"}
        else:
            names.add(name)
    return names


def faust_metric_names() -> set[str]:
    """Series names of faust-streaming's Prometheus sensor under :data:`FAUST_PREFIX`."""
    from faust.sensors.prometheus import FaustMetrics

    registry = CollectorRegistry()
    FaustMetrics.create(registry, FAUST_PREFIX)
    return set(registry._names_to_collectors)


def allowed_metric_names() -> set[str]:
    return news_metric_names() | faust_metric_names() | PROCESS_METRICS | PROMETHEUS_BUILTIN


_KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"bool", "offset", "inf", "nan"}
)


def metric_names_in(expr: str) -> set[str]:
    """Metric names referenced by a PromQL expression (good enough for our expressions)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    s = re.sub(r"\{[^}]*\}", " ", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)  # range selectors
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\$\{?\w+\}?", " ", s)  # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", s):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names


def dashboard_exprs(dash: dict[str, Any]) -> Iterator[tuple[str, str]]:
    def walk(panels: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
        for p in panels:
            for t in p.get("targets", []):
                yield p.get("title", "?"), t["expr"]
            yield from walk(p.get("panels", []))

    yield from walk(dash["panels"])


def alert_rules() -> list[dict[str, Any]]:
    data = _load_yaml(ALERTS)
    return [rule for group in data["groups"] for rule in group["rules"]]


# --- compose ------------------------------------------------------------------------------------
def test_compose_has_the_stack(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"kafka", *APP_SERVICES, "prometheus", "grafana"}
    commands = {name: services[name].get("command") for name in APP_SERVICES}
    assert commands == {
        "topics": ["topics", "create"],
        "poller": ["poll"],
        "worker-1": ["worker"],
        "worker-2": ["worker"],
    }
    for name in APP_SERVICES:
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (ROOT / services[name]["build"]["context"] / "deploy/Dockerfile").is_file()


def test_compose_kafka_is_kraft_single_node(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = _env(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    node = env["KAFKA_NODE_ID"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node}@kafka:9093"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    for name in APP_SERVICES:
        assert _env(compose["services"][name])["NEWS_BOOTSTRAP_SERVERS"] == "kafka:9092"


def test_compose_news_env_names_exist_in_settings(compose: dict[str, Any]) -> None:
    unknown = {
        f"{name}: {var}"
        for name, service in compose["services"].items()
        for var in _env(service)
        if var.startswith("NEWS_") and var not in SETTINGS_ENV
    }
    assert not unknown, f"NEWS_* variables not in streams/settings.py FIELDS: {sorted(unknown)}"


def test_dockerfile_env_names_exist_in_settings() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    used = set(re.findall(r"\b(NEWS_[A-Z0-9_]+)=", text))
    assert used, "Dockerfile sets no NEWS_* defaults?"
    assert used <= SETTINGS_ENV, sorted(used - SETTINGS_ENV)
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert re.search(r"^USER (?!root)\S+", text, re.M), "image must run as non-root"
    assert 'ENTRYPOINT ["news-streams"]' in text


def test_workers_share_app_id_and_have_distinct_data_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    app_ids = {
        _env(services[w]).get("NEWS_APP_ID", _setting_default("NEWS_APP_ID")) for w in WORKERS
    }
    assert len(app_ids) == 1, f"workers must join one consumer group, got {app_ids}"

    data_sources = []
    for w in WORKERS:
        env = _env(services[w])
        assert "NEWS_STORE" not in env  # dedup state lives in Kafka state topics, not RocksDB
        data_dir = env["NEWS_DATA_DIR"]
        mounts = {
            v.split(":")[1]: v.split(":")[0] for v in services[w]["volumes"] if isinstance(v, str)
        }
        assert data_dir in mounts, f"{w}: NEWS_DATA_DIR {data_dir} is not a volume"
        source = mounts[data_dir]
        assert source in (compose.get("volumes") or {}), f"{w}: {source} is not a named volume"
        data_sources.append(source)
    assert len(set(data_sources)) == len(WORKERS), f"workers share a data volume: {data_sources}"


def test_compose_bind_mounts_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for vol in service.get("volumes", []):
            source = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", vol).split(":")[0]  # ${VAR:-default}
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"


def test_compose_prometheus_and_grafana_mounts(compose: dict[str, Any]) -> None:
    prom_mounts = dict(v.split(":")[:2] for v in compose["services"]["prometheus"]["volumes"])
    assert prom_mounts["./deploy/prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    rules_in_container = prom_mounts["./dashboards/prometheus/alerts.yml"]
    assert rules_in_container in _load_yaml(PROM_CONFIG)["rule_files"]

    graf_mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    assert graf_mounts["./dashboards/grafana/provisioning"] == "/etc/grafana/provisioning"
    dash_path = graf_mounts["./dashboards/grafana/news-streams.json"]
    providers = _load_yaml(PROVISIONING / "dashboards" / "dashboards.yml")["providers"]
    assert any(dash_path.startswith(p["options"]["path"] + "/") for p in providers)


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose (v1, Debian) not installed"
)
def test_compose_file_passes_docker_compose_schema() -> None:
    """``docker-compose config`` validates against the Compose schema without a Docker engine."""
    exe = shutil.which("docker-compose")
    assert exe is not None
    result = subprocess.run(
        [exe, "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- prometheus scrape config -----------------------------------------------------------------
def _static_targets(prom_config: dict[str, Any], job: str) -> list[str]:
    (cfg,) = [c for c in prom_config["scrape_configs"] if c["job_name"] == job]
    return [t for sc in cfg["static_configs"] for t in sc["targets"]]


def test_scrape_targets_match_compose(compose: dict[str, Any], prom_config: dict[str, Any]) -> None:
    services = compose["services"]
    poller_port = _env(services["poller"]).get(
        "NEWS_METRICS_PORT", str(_setting_default("NEWS_METRICS_PORT"))
    )
    assert int(poller_port) != 0, "poller metrics are switched off"
    assert _static_targets(prom_config, "news-poller") == [f"poller:{poller_port}"]

    expected = []
    for w in WORKERS:
        port = _env(services[w]).get("NEWS_WEB_PORT", str(_setting_default("NEWS_WEB_PORT")))
        expected.append(f"{w}:{port}")
    assert sorted(_static_targets(prom_config, "news-worker")) == sorted(expected)

    for job in ("news-poller", "news-worker"):
        for target in _static_targets(prom_config, job):
            assert target.split(":")[0] in services


def test_grafana_datasource_provisioning(compose: dict[str, Any]) -> None:
    ds = _load_yaml(PROVISIONING / "datasources" / "prometheus.yml")["datasources"]
    (prom,) = [d for d in ds if d["type"] == "prometheus"]
    assert prom["uid"] == "prometheus"
    host_port = prom["url"].removeprefix("http://")
    assert host_port.split(":")[0] in compose["services"]
    assert "9090:9090" in compose["services"]["prometheus"]["ports"]


# --- PromQL metric names ------------------------------------------------------------------------
def test_metric_name_extractor() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le) (rate(news_process_seconds_bucket{job="x"}[5m])))'
        " > 1e3 and on() (sum(increase(news_events_total[$__range])) or vector(0)) == 0"
    )
    assert metric_names_in(expr) == {"news_process_seconds_bucket", "news_events_total"}
    assert metric_names_in("time() - up") == {"up"}


def test_news_metric_names_come_from_streams_metrics() -> None:
    names = news_metric_names()
    assert "news_feed_fetches_total" in names
    assert "news_event_latency_seconds_bucket" in names
    assert "news_feed_consecutive_errors" in names
    assert "faust_consumer_commit_latency_bucket" in faust_metric_names()
    assert "faust_topic_partition_offset_commited" in faust_metric_names()


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def test_dashboard_json_is_generated_from_builder() -> None:
    result = subprocess.run(
        [sys.executable, str(DASHBOARD_BUILDER), "--check"], capture_output=True, check=False
    )
    assert result.returncode == 0, "run: python dashboards/grafana/build_dashboard.py"


def test_dashboard_structure(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "news-streams"
    assert 36 <= dashboard["schemaVersion"] <= 41
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert [r.split(" ")[0] for r in rows] == ["Feeds", "Pipeline", "Kafka", "Process"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for p in dashboard["panels"]:
        pos = p["gridPos"]
        assert pos["x"] + pos["w"] <= 24, p["title"]
        if p["type"] != "row":
            assert p["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
            assert p["targets"], p["title"]
            assert p.get("description"), f"{p['title']}: describe what the panel means"


def test_dashboard_exprs_use_existing_metrics(dashboard: dict[str, Any]) -> None:
    allowed = allowed_metric_names()
    bad = {
        (title, name)
        for title, expr in dashboard_exprs(dashboard)
        for name in metric_names_in(expr)
        if name not in allowed
    }
    assert not bad, f"unknown metric names in dashboard: {sorted(bad)}"
    used = {n for _, e in dashboard_exprs(dashboard) for n in metric_names_in(e)}
    # every news_* metric is on the dashboard (at least one of its series)
    for obj in vars(streams.metrics).values():
        if isinstance(obj, MetricWrapperBase):
            assert any(u.startswith(obj._name) for u in used), f"{obj._name} not on dashboard"


def test_alert_exprs_use_existing_metrics() -> None:
    allowed = allowed_metric_names()
    rules = alert_rules()
    assert {r["alert"] for r in rules} >= {
        "FeedDown",
        "PollerDown",
        "WorkerDown",
        "DeadLetterRecords",
        "NoEventsEmitted",
        "EventLatencyHigh",
        "DedupRatioAnomaly",
    }
    for rule in rules:
        unknown = metric_names_in(rule["expr"]) - allowed
        assert not unknown, f"{rule['alert']}: unknown metrics {sorted(unknown)}"
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}


def test_worker_registers_faust_sensor_with_expected_prefix() -> None:
    """Dashboards and alerts use ``faust_*``; the worker must register the sensor with that prefix
    (the default prefix is the app id, which would change every Faust metric name)."""
    calls = []
    for path in (ROOT / "streams").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if name == "setup_prometheus_sensors":
                    calls.append((path.relative_to(ROOT), node))
    if not calls:
        pytest.skip("the worker does not register Faust's Prometheus sensor yet")
    for path, call in calls:
        prefix = next((kw.value for kw in call.keywords if kw.arg == "name_prefix"), None)
        assert isinstance(prefix, ast.Constant) and prefix.value == FAUST_PREFIX, (
            f"{path}:{call.lineno}: call setup_prometheus_sensors(app, "
            f'name_prefix="{FAUST_PREFIX}") so Faust metrics match dashboards/alerts'
        )


# --- kubernetes (deploy/k8s) ----------------------------------------------------------------
K8S = ROOT / "deploy" / "k8s"


def _k8s_docs() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            docs += [d for d in yaml.safe_load_all(fh) if d]
    return docs


def _k8s(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in _k8s_docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _container_env(workload: dict[str, Any]) -> dict[str, str]:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for ref in container.get("envFrom", []):
        env |= _k8s("ConfigMap", ref["configMapRef"]["name"])["data"]
    env |= {e["name"]: e["value"] for e in container.get("env", [])}
    return env


def test_k8s_manifests_use_known_settings_and_listed_resources() -> None:
    kustomization = _load_yaml(K8S / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"
    )
    workloads = [d for d in _k8s_docs() if d["kind"] in {"Deployment", "StatefulSet", "Job"}]
    assert {w["metadata"]["name"] for w in workloads} == {
        "news-streams-topics",
        "news-streams-poller",
        "news-streams-worker",
    }
    for w in workloads:
        env = _container_env(w)
        unknown = {k for k in env if k.startswith("NEWS_")} - SETTINGS_ENV
        assert not unknown, f"{w['metadata']['name']}: {sorted(unknown)}"
        assert w["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_k8s_poller_and_workers() -> None:
    poller = _k8s("Deployment", "news-streams-poller")
    assert poller["spec"]["replicas"] == 1
    annotations = poller["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == _container_env(poller)["NEWS_METRICS_PORT"]

    worker = _k8s("StatefulSet", "news-streams-worker")
    env = _container_env(worker)
    assert worker["spec"]["replicas"] >= 2
    assert (
        worker["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"]
        == (env["NEWS_WEB_PORT"])
    )
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {t["metadata"]["name"] for t in worker["spec"]["volumeClaimTemplates"]}
    assert mounts[env["NEWS_DATA_DIR"]] in claims, "each worker pod needs its own data volume"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_k8s_kustomize_builds() -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(result.stdout) if d]
    assert "StatefulSet" in kinds and "Deployment" in kinds and "Job" in kinds


# --- ops: a stack that really starts and survives a restart ---------------------------------
#: Host ports `make run` / `news-streams run` use by default: compose must not publish them.
LOCAL_DEMO_PORTS = frozenset(
    {
        _setting_default("NEWS_BROKER_PORT"),
        _setting_default("NEWS_BROKER_CONTROLLER_PORT"),
        _setting_default("NEWS_WEB_PORT"),
        _setting_default("NEWS_METRICS_PORT"),
        8765,  # news-streams serve-feeds
    }
)


def _host_ports(service: dict[str, Any]) -> set[int]:
    out = set()
    for spec in service.get("ports", []):
        parts = str(spec).split(":")
        if len(parts) >= 2:  # [ip:]host:container
            out.add(int(parts[-2]))
    return out


def test_compose_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck") or {}
        if name == "topics":  # one-shot: the others wait for service_completed_successfully
            assert check.get("disable") is True
            assert service["restart"] in {"no", "on-failure"}
            continue
        assert check.get("test"), f"{name}: no healthcheck"
        assert {"interval", "timeout", "retries"} <= set(check), name
        assert service.get("restart") == "unless-stopped", f"{name}: not restarted"


def test_compose_app_healthchecks_use_readyz_on_their_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    probes = {
        "poller": _env(services["poller"])["NEWS_METRICS_PORT"],
        "worker-1": _env(services["worker-1"])["NEWS_WEB_PORT"],
        "worker-2": _env(services["worker-2"])["NEWS_WEB_PORT"],
    }
    for name, port in probes.items():
        test = " ".join(services[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/readyz" in test, (name, test)
        # The image has python but neither curl nor wget.
        assert test.split()[1].startswith("python"), test
        assert _env(services[name])["NEWS_BIND_HOST"] == "0.0.0.0"
    worker_start = services["worker-1"]["healthcheck"]["start_period"]
    assert int(worker_start.rstrip("s")) >= 120, "recovery after a restart needs time"


def test_compose_depends_on_uses_conditions(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        deps = service.get("depends_on")
        if deps is None:
            continue
        assert isinstance(deps, dict), f"{name}: depends_on without conditions: {deps}"
        for dep, spec in deps.items():
            assert dep in services, (name, dep)
            cond = spec["condition"]
            if dep == "topics":
                assert cond == "service_completed_successfully", (name, cond)
            else:
                assert cond == "service_healthy", (name, dep, cond)
                assert services[dep].get("healthcheck", {}).get("test"), dep
    for name in ("poller", *WORKERS):
        assert set(services[name]["depends_on"]) == {"kafka", "topics"}, name
    assert services["topics"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert services["grafana"]["depends_on"] == {"prometheus": {"condition": "service_healthy"}}


def test_compose_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    """Kafka keeps its log on a volume: a restart (or down/up) pairs the worker tables with
    the same topics and changelogs they were built from."""
    services = compose["services"]
    kafka = services["kafka"]
    env = _env(kafka)
    mounts = dict(v.split(":")[:2] for v in kafka["volumes"])
    assert mounts.get("kafka-data") == env["KAFKA_LOG_DIRS"]
    # Formatted once, reused: the cluster id must not change between starts (22-char Kafka Uuid).
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])
    declared = set(compose["volumes"])
    for name, service in services.items():
        for vol in service.get("volumes", []):
            source = str(vol).split(":")[0]
            if not source.startswith(("./", "/", "$")):
                assert source in declared, f"{name}: {source} is not declared"
    assert {"kafka-data", "worker-1-data", "worker-2-data"} <= declared


def test_compose_host_ports_do_not_clash_with_the_local_demo(compose: dict[str, Any]) -> None:
    published = {
        port: name for name, svc in compose["services"].items() for port in _host_ports(svc)
    }
    assert not LOCAL_DEMO_PORTS & set(published), {
        p: published[p] for p in LOCAL_DEMO_PORTS & set(published)
    }
    kafka = compose["services"]["kafka"]
    host_port = next(iter(_host_ports(kafka)))
    assert f"PLAINTEXT_HOST://localhost:{host_port}" in _env(kafka)["KAFKA_ADVERTISED_LISTENERS"]


def test_dockerfile_binds_all_interfaces_and_local_default_is_loopback() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"NEWS_BIND_HOST=0\.0\.0\.0", text)
    assert _setting_default("NEWS_BIND_HOST") == "127.0.0.1"


def test_k8s_probes_use_health_endpoints() -> None:
    for kind, name, port in (
        ("Deployment", "news-streams-poller", "metrics"),
        ("StatefulSet", "news-streams-worker", "web"),
    ):
        workload = _k8s(kind, name)
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
        assert _container_env(workload)["NEWS_BIND_HOST"] == "0.0.0.0"
