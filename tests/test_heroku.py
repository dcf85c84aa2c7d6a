"""The Heroku app: the Procfile migrates the track record on release and runs the web app from
the web lock, and app.json asks for the web app's real settings, secrets without a value, and
the Redis and PostgreSQL add-ons."""

from __future__ import annotations

import json
import re

from tests.support.deploy_files import ROOT
from tickercast.cli import build_parser
from tickercast.settings import WebSettings

APP = json.loads((ROOT / "app.json").read_text())


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def procfile_web() -> str:
    return procfile()["web"]


def test_procfile_runs_the_web_app_from_the_web_lock() -> None:
    words = re.sub(r"\$\{?([A-Z_]+)(:-(\w+))?\}?", lambda m: m.group(3) or "8000", procfile_web())
    assert build_parser().parse_args(words.split()[1:]).command == "web"
    assert "-r deploy/requirements-web.lock" in (ROOT / "requirements.txt").read_text()


def test_app_json_env_names_are_real_settings() -> None:
    procfile_vars = set(re.findall(r"\$\{?([A-Z_]+)", procfile_web())) - {"PORT"}
    for name in APP["env"]:
        assert name.lower() in WebSettings.model_fields or name in procfile_vars, name


def test_app_json_requires_exactly_the_required_settings() -> None:
    required = {
        name.upper() for name, field in WebSettings.model_fields.items() if field.is_required()
    }
    asked = {name for name, spec in APP["env"].items() if spec["required"]}
    assert asked == required


# What a public site sets unlike a developer's machine, on purpose.
PUBLIC_SITE = {
    "YAHOO_PRICES": "false",  # Yahoo's data is for personal use
    "LOG_FORMAT": "json",  # lines for the platform's log drains, not a person's terminal
}


def test_app_json_settings_are_described_and_secrets_have_no_value() -> None:
    for name, spec in APP["env"].items():
        assert len(spec["description"]) > 15, name
        field = WebSettings.model_fields.get(name.lower())
        if field is not None and "SecretStr" in str(field.annotation):
            assert "value" not in spec, f"{name} is a secret: no value in the repository"
        elif field is not None and "value" in spec:
            expected = PUBLIC_SITE.get(name, str(field.default))
            assert spec["value"] == expected, f"{name}: the setting's own default"


def test_a_public_site_does_not_serve_yahoo_s_prices() -> None:
    assert {n: APP["env"][n].get("value") for n in PUBLIC_SITE} == PUBLIC_SITE


def test_app_json_adds_the_redis_and_the_postgres_that_set_their_urls() -> None:
    plans = {addon["plan"].split(":")[0]: addon["as"] + "_URL" for addon in APP["addons"]}
    assert plans.pop("scheduler") == "SCHEDULER_URL"  # runs the nightly job; sets no URL
    assert plans == {"heroku-redis": "REDIS_URL", "heroku-postgresql": "DATABASE_URL"}
    for name in plans.values():
        assert name.lower() in WebSettings.model_fields
        assert name not in APP["env"], "the add-on sets it"


def test_the_release_phase_migrates_the_track_record() -> None:
    args = build_parser().parse_args(procfile()["release"].split()[1:])
    assert (args.command, args.action, args.revision) == ("db", "upgrade", "head")


def test_python_version_matches_the_package() -> None:
    version = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", version)
    assert f'requires-python = ">={version}"' in (ROOT / "pyproject.toml").read_text()


def test_the_scheduler_runs_the_nightly_universe_in_one_shard() -> None:
    """Heroku's Scheduler runs the Procfile's `nightly` command (README: the daily job)."""
    args = build_parser().parse_args(procfile()["nightly"].split()[1:])
    assert (args.command, args.universe, args.shard) == ("refresh", "sp500", "0/1")
