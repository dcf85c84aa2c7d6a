"""The project's documents say what the code does: every request field and response column in
docs/contract.md, every file, setting and metric that docs/deploy.md names."""

from __future__ import annotations

import dataclasses
import re

import pytest

from tests.support.deploy_files import ROOT
from tickercast.contract import RESPONSE_KEYS, ForecastRequest
from tickercast.data.universe import SHARD_INDEX_VARIABLE
from tickercast.settings import ModelSettings, WebSettings

CONTRACT = (ROOT / "docs" / "contract.md").read_text()
DEPLOY = (ROOT / "docs" / "deploy.md").read_text()
SETTINGS = {name.upper() for name in {**ModelSettings.model_fields, **WebSettings.model_fields}}
# Read by the images' commands and the Procfile, not by the settings (and the shard's index,
# which Kubernetes sets in an Indexed Job's pods); Dockerfile words.
COMMAND_VARIABLES = {"PORT", "MODEL_WORKERS", "WEB_CONCURRENCY", SHARD_INDEX_VARIABLE}
DOCKERFILE_WORDS = {"HEALTHCHECK", "CMD"}


def table_fields(text: str) -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)`", text, flags=re.M))


@pytest.mark.parametrize("name", ["key", *(f.name for f in dataclasses.fields(ForecastRequest))])
def test_contract_documents_every_request_field(name: str) -> None:
    forecast = CONTRACT.split("## Forecast", 1)[1].split("\n## ", 1)[0]
    assert name in table_fields(forecast)


def test_contract_lists_every_response_column() -> None:
    sentence = re.search(r"Columns, always these (\d+): (.+?)\.\n", CONTRACT, flags=re.S)
    assert sentence is not None
    bases = re.findall(r"`([a-z]+)`", sentence.group(2))
    columns = {bases[0]} | {b + s for b in bases[1:] for s in ("", "_lower", "_upper")}
    assert columns == set(RESPONSE_KEYS) and int(sentence.group(1)) == len(RESPONSE_KEYS)


def test_deploy_guide_names_files_that_exist() -> None:
    paths = set(
        re.findall(r"`((?:deploy|docs|bench|\.github)/[\w./-]+|[\w.-]+\.(?:json|yml))`", DEPLOY)
    )
    paths |= {f"deploy/k8s/{name}" for name in re.findall(r"^\| `([\w-]+\.yaml)`", DEPLOY, re.M)}
    assert len(paths) > 10
    for path in paths:
        assert (ROOT / path).exists(), f"docs/deploy.md names {path}, which does not exist"


def test_deploy_guide_names_real_settings() -> None:
    named = set(re.findall(r"`([A-Z][A-Z_]{3,})(?:=[^`]*)?`", DEPLOY))
    secrets_of_github = {"KUBECONFIG", "HEROKU_API_KEY", "HEROKU_APP"}
    unknown = named - SETTINGS - COMMAND_VARIABLES - DOCKERFILE_WORDS - secrets_of_github
    assert not unknown, f"docs/deploy.md names settings that do not exist: {unknown}"


def test_deploy_guide_names_real_metrics() -> None:
    source = "".join(p.read_text() for p in (ROOT / "src").rglob("*.py"))
    metrics = set(re.findall(r"`(tickercast_[a-z_]+)`", DEPLOY))
    assert metrics
    for metric in metrics:
        assert f'"{metric}"' in source, f"docs/deploy.md names {metric}, which is not served"


def test_readme_links_the_documents() -> None:
    readme = (ROOT / "README.md").read_text()
    for document in ("docs/deploy.md", "docs/contract.md", "CONTRIBUTING.md"):
        assert f"({document})" in readme


def test_readme_development_table_lists_every_make_target() -> None:
    phony = re.search(r"^\.PHONY: (.+)$", (ROOT / "Makefile").read_text(), flags=re.M)
    assert phony is not None
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Development", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `make ([a-z-]+)` \|", table, flags=re.M))
    assert listed == set(phony.group(1).split()) - {"clean"}
