"""Deployment files checked statically (no Docker engine here): hadolint, and every probe path,
port, entrypoint and dashboard query matches what the daemon really serves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from tests.kit.opskit import make_app, ops_of, unique_prefix, write_config
from tests.kit.paths import ROOT

from inavd.errors import ConfigError, JournalWriteFailed
from inavd.settings import load_config

HADOLINT = Path(sys.executable).parent / "hadolint"
ROUTES = {"/healthz", "/readyz", "/metrics", "/status", "/"}


def _yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_dockerfile_passes_hadolint_and_matches_the_daemon() -> None:
    out = subprocess.run([str(HADOLINT), "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2  # multi-stage
    assert re.search(r"^USER 10001", text, re.M)  # non-root
    assert 'ENTRYPOINT ["inavd", "run"]' in text  # the same command the README runs
    assert "http://127.0.0.1:8787/healthz" in text and "HEALTHCHECK" in text
    config = re.search(r'CMD \["--config", "/etc/inavd/([^"]+)"\]', text)
    assert config, "CMD names the config"
    cfg = load_config(ROOT / "config" / config.group(1))  # the image's config is valid
    assert cfg.settings.ops.enabled and cfg.settings.ops.port == 8787
    assert cfg.settings.run.data_dir == Path("/data") and 'VOLUME ["/data"]' in text


def test_compose_binds_loopback_and_wires_the_services() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"inavd", "mosquitto", "prometheus", "grafana"} <= set(services)
    for name, svc in services.items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    inavd = services["inavd"]
    assert "127.0.0.1:8787:8787" in inavd["ports"] and inavd["read_only"] is True
    assert inavd["command"] == ["--config", "/etc/inavd/docker.toml"]
    mosq = (ROOT / "config" / "mosquitto.conf").read_text()
    assert re.search(r"^set_tcp_nodelay true", mosq, re.M)
    prom = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    job = prom["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics" and job["static_configs"][0]["targets"] == [
        "inavd:8787"
    ]


def test_kubernetes_probes_hit_real_endpoints() -> None:
    docs = _yaml_docs(ROOT / "deploy" / "k8s" / "deployment.yaml")
    dep = next(d for d in docs if d["kind"] == "Deployment")
    assert dep["spec"]["replicas"] == 1 and dep["spec"]["strategy"]["type"] == "Recreate"
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert c["command"] == ["inavd", "run"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
    assert c["resources"]["limits"] and c["securityContext"]["readOnlyRootFilesystem"] is True
    cm = _yaml_docs(ROOT / "deploy" / "k8s" / "configmap.yaml")[0]
    k8s_cfg = tomllib.loads(cm["data"]["k8s.toml"])
    assert ports["ops"] == k8s_cfg["ops"]["port"] == 8787 and k8s_cfg["ops"]["host"] == "0.0.0.0"
    assert c["args"] == ["--config", "/etc/inavd/k8s.toml"]
    secret = _yaml_docs(ROOT / "deploy" / "k8s" / "secret.example.yaml")[0]
    assert all(k.startswith(("INAVD_", "APCA_")) for k in secret["stringData"])
    unit = (ROOT / "deploy" / "systemd" / "inavd.service").read_text()
    assert re.search(r"^ExecStart=\S+/inavd run --config ", unit, re.M)
    # the exit codes of errors a restart cannot cure: config (2) and an unwritable journal (3)
    prevent = re.search(r"^RestartPreventExitStatus=(.+)$", unit, re.M)
    assert prevent and {ConfigError.exit_code, JournalWriteFailed.exit_code} <= {
        int(c) for c in prevent.group(1).split()
    }
    limit = re.search(r"^LimitNOFILE=(\d+)$", unit, re.M)
    assert limit and int(limit.group(1)) >= 1024


async def test_dashboard_queries_use_only_exported_metrics(tmp_path: Path) -> None:
    mqtt = {"enabled": True, "topic_prefix": unique_prefix()}  # built, not started
    app = make_app(write_config(tmp_path, {"ops": {"enabled": True, "port": 0}, "mqtt": mqtt}))
    ops = ops_of(app)
    await ops.start(app)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(ops.url + "/metrics") as r:
                text = await r.text()
            for route in ROUTES:  # every path the probes and scrapers use is really served
                async with s.get(ops.url + route) as r:
                    assert r.status in (200, 503), (route, r.status)
    finally:
        await ops.stop()
    exported: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        exported.add(name)
        if kind == "histogram":
            exported |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    dash = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "inavd.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\binavd_[a-z_]+", e)}
    assert len(used) >= 8
    assert used <= exported, used - exported
    titles = " ".join(p["title"].lower() for p in dash["panels"])
    for topic in ("premium", "quote rate", "latency", "orders", "denials", "trading state"):
        assert topic in titles
    for topic in ("p&l", "headroom", "exposure", "positions", "fees", "broker", "429"):
        assert topic in titles
    # every metric an alert rule reads is exported, and every alert has a runbook section
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    alerted = {m for r in alerts for m in re.findall(r"\binavd_[a-z_]+", r["expr"])}
    assert alerted <= exported, alerted - exported
    guide = (ROOT / "docs" / "operations.md").read_text()
    for r in alerts:
        assert f"#### {r['alert']}\n" in guide, r["alert"]
        assert r["annotations"]["runbook"] == f"docs/operations.md#{r['alert'].lower()}"


def test_alert_rules_pass_their_promtool_unit_tests() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (.ci/run installs Debian's prometheus package)")
    rules = ROOT / "deploy" / "prometheus"
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "tests/alerts_test.yml"]):
        out = subprocess.run([promtool, *args], cwd=rules, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
