"""deploy/, Dockerfile and compose.yaml, checked by parsing them.

No container engine runs on the build machine, so the image is not built here: these
tests check what can be read. The commands are the Procfile's, the user is not root,
Redis persists (AOF), the healthcheck asks /readyz, dependencies are pinned; and every
metric the Grafana dashboard and the alert rules use is one the service exposes.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from conftest import TwilioHelper
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
METRIC = re.compile(r"\bbot_[a-z_]+\b")


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines) if v}


def words(command: str) -> list[str]:
    """A command line's words, the --bind address left out (containers listen on 0.0.0.0)."""
    parts = shlex.split(command.removeprefix("exec "))
    if "--bind" in parts:
        i = parts.index("--bind")
        del parts[i : i + 2]
    return parts


def exposed_metrics(make_app) -> set[str]:
    """Every sample name /metrics can show, from a scrape of the app."""
    app = make_app()
    TwilioHelper(app.test_client()).sms("hello")
    text = app.test_client().get("/metrics").get_data(as_text=True)
    names = set()
    for family in text_string_to_metric_families(text):
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_count", "_sum"))
        else:
            names.add(family.name)
    return names


def used_metrics() -> dict[str, set[str]]:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = yaml.safe_load((DEPLOY / "alerts.yaml").read_text())
    alerts = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    return {
        "dashboard": {m for e in exprs for m in METRIC.findall(e)},
        "alerts": {m for e in alerts for m in METRIC.findall(e)},
    }


def test_every_metric_the_dashboard_and_alerts_use_exists(make_app):
    exposed = exposed_metrics(make_app)
    used = used_metrics()
    assert used["dashboard"] and used["alerts"]
    for where, names in used.items():
        assert names <= exposed, f"{where} uses unknown metrics: {sorted(names - exposed)}"


def test_the_alerts_cover_what_the_issue_asks():
    rules = yaml.safe_load((DEPLOY / "alerts.yaml").read_text())
    exprs = {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}
    assert "bot_queue_depth" in exprs["BotQueueBackingUp"]
    assert "bot_workers" in exprs["BotWorkerDown"]
    assert "bot_redis_up" in exprs["BotRedisDown"]
    assert "0.8" in exprs["BotBudgetAt80Percent"]


def test_an_unknown_metric_would_be_caught():
    assert METRIC.findall("rate(bot_not_a_metric_total[5m])") == ["bot_not_a_metric_total"]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [tuple(line.split(None, 1)) for line in lines if not line.startswith("#")]


def test_the_image_is_slim_pinned_and_not_root(dockerfile):
    instructions = dict(dockerfile)
    assert re.fullmatch(r"python:3\.\d+-slim", instructions["FROM"])
    users = [arg for op, arg in dockerfile if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    installs = [arg for op, arg in dockerfile if op == "RUN" and "pip install" in arg]
    assert installs and all("-c deploy/constraints.txt" in arg for arg in installs)
    pins = [
        line
        for line in (DEPLOY / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert all("==" in line for line in pins)
    pinned = {line.split("==")[0].lower().replace("_", "-") for line in pins}
    pyproject = (ROOT / "pyproject.toml").read_text().split("[project.optional-dependencies]")[0]
    runtime = re.findall(r'^\s*"([A-Za-z0-9_.-]+)', pyproject.split("dependencies = [")[1], re.M)
    missing = {r.lower().replace("_", "-") for r in runtime} - pinned
    assert not missing, f"runtime dependencies not pinned in deploy/constraints.txt: {missing}"
    assert "/readyz" in instructions["HEALTHCHECK"]


def test_the_image_runs_the_procfile_web_command(dockerfile):
    cmd = json.loads(dict(dockerfile)["CMD"])
    assert cmd[:2] == ["sh", "-c"]
    assert words(cmd[2]) == words(procfile()["web"])


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_the_procfile_commands(compose):
    services = compose["services"]
    web = services["web"]["command"]
    assert words(web[2] if web[0] == "sh" else shlex.join(web)) == words(procfile()["web"])
    assert services["worker"]["command"] == shlex.split(procfile()["worker"])
    for name in ("web", "worker"):
        assert services[name]["environment"]["BOT_ENV"] == "production"
        assert services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"]


def test_compose_redis_persists_with_aof_and_has_a_sentinel_profile(compose):
    services = compose["services"]
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    sentinels = [n for n, s in services.items() if "sentinel" in s.get("profiles", [])]
    assert len([n for n in sentinels if n.startswith("sentinel-")]) == 3
    assert "--sentinel" in services["sentinel-1"]["command"][-1]
