"""The deploy files point at things that exist: probe paths, ports, commands, locked packages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tickercast.cli import build_parser
from tickercast.model.api import create_app
from tickercast.settings import ModelSettings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def model_container() -> dict:
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "model.yaml").read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_probes_use_routes_the_model_service_serves() -> None:
    app = create_app(ModelSettings(model_api_keys="k", model_mock=True))
    routes = {getattr(r, "path", None) for r in app.routes}
    container = model_container()
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] in routes
    assert container["ports"][0]["containerPort"] == 9000


def test_secret_keys_come_from_a_secret_not_the_manifest() -> None:
    container = model_container()
    assert all(e["name"] != "MODEL_API_KEYS" for e in container.get("env", []))
    assert container["envFrom"][0]["secretRef"]["name"]


@pytest.mark.parametrize("dockerfile", ["Dockerfile.model", "Dockerfile.web"])
def test_image_commands_parse(dockerfile: str) -> None:
    text = (DEPLOY / dockerfile).read_text()
    command = re.search(r"exec (tickercast .+?)\"", text)
    assert command is not None
    words = re.sub(r"\$\{[A-Z_]+:-(\w+)\}", r"\1", command.group(1)).split()[1:]
    assert build_parser().parse_args(words).command in {"model", "web"}


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("deploy/requirements-model.lock", ["model"]), ("deploy/requirements-web.lock", [])],
)
def test_image_locks_hold_every_dependency(lock: str, extras: list[str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / lock).read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for requirement in wanted:
        name = re.split(r"[<>=\[ ]", requirement)[0].lower().replace("_", "-")
        assert name in pinned, f"{name} is not pinned in {lock}"
    assert "prophet" not in pinned or extras, "the web image must not carry Prophet"


def test_heroku_procfile_runs_the_web_app_from_the_web_lock() -> None:
    web = (ROOT / "Procfile").read_text().split("web:", 1)[1].strip()
    words = re.sub(r"\$\{?([A-Z_]+)(:-(\w+))?\}?", lambda m: m.group(3) or "8000", web).split()
    assert build_parser().parse_args(words[1:]).command == "web"
    assert "-r deploy/requirements-web.lock" in (ROOT / "requirements.txt").read_text()
