"""The GitHub workflows pass GitHub's schema and zizmor's audits (both offline), pin every
action by commit, ask for the least permissions, and run what CI runs here."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.deploy_files import DOCKERFILES, ROOT, Dockerfile

GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def load(path: Path) -> dict[Any, Any]:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as True
    return dict(workflow)


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], capture_output=True, text=True, timeout=120
    )


def test_workflows_match_githubs_schema() -> None:
    result = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.dependabot", str(GITHUB / "dependabot.yml")
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOWS[0].read_text().replace("runs-on:", "run-on:"))
    result = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(broken)
    )
    assert result.returncode == 1


def test_zizmor_finds_nothing() -> None:
    result = run_tool("zizmor", "--offline", "--no-progress", str(GITHUB))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_catches_an_unpinned_action(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    text = re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v7", WORKFLOWS[0].read_text())
    (workflows / "ci.yml").write_text(text)
    result = run_tool("zizmor", "--offline", "--no-progress", str(tmp_path / ".github"))
    assert result.returncode != 0 and "unpinned-uses" in result.stdout


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_commit_with_its_release_beside(path: Path) -> None:
    for line in path.read_text().splitlines():
        match = re.search(r"uses: (\S+)(.*)", line)
        if match and not match.group(1).startswith("$/"):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", match.group(1)), line
            assert re.fullmatch(r" # v\d+\.\d+\.\d+", match.group(2)), line


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_the_least_each_job_needs(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] in ({}, {"contents": "read"})
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions", workflow["permissions"])
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes <= ({"packages"} if name == "images" else set()), name


def test_pull_requests_run_lint_and_the_readme_test_command() -> None:
    ci = load(GITHUB / "workflows" / "ci.yml")
    assert "pull_request" in ci["on"]
    (job,) = ci["jobs"].values()
    in_debian = 'docker run --rm --network host -e CI -v "$PWD:/src" -w /src "$DEBIAN_PYTHON" '
    commands = [step["run"].removeprefix(in_debian) for step in job["steps"] if "run" in step]
    ci_run = [
        line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("make")
    ]
    assert commands == ci_run == ["make install", "make lint", "make test"]
    image_base = Dockerfile.read(DOCKERFILES["model"]).only("FROM").replace("-slim", "")
    assert job["env"]["DEBIAN_PYTHON"] == image_base, "the images' Python and Debian release"
    assert "make test" in (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    assert "services" not in job, "the tests start their own Redis; a service would go unused"


def test_main_is_tested_then_deployed_with_documented_secrets() -> None:
    deploy = load(GITHUB / "workflows" / "deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    jobs = deploy["jobs"]
    assert jobs["test"]["uses"] == "$/.github/workflows/ci.yml"
    assert jobs["images"]["needs"] == "test"
    assert jobs["model-service"]["needs"] == "images"
    assert jobs["web-app"]["needs"] == "model-service"
    text = (GITHUB / "workflows" / "deploy.yml").read_text()
    secrets = set(re.findall(r"secrets\.([A-Z_]+)", text)) - {"GITHUB_TOKEN"}
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for secret in secrets:
        assert f"`{secret}`" in guide, f"docs/deploy.md does not explain {secret}"
    dockerfiles = {
        step["with"]["file"] for step in steps(deploy) if "with" in step and "file" in step["with"]
    }
    assert dockerfiles == {"deploy/Dockerfile.model", "deploy/Dockerfile.web"}


def test_issue_forms_match_githubs_schema() -> None:
    forms = sorted(str(p) for p in (GITHUB / "ISSUE_TEMPLATE").glob("*.yml") if p.stem != "config")
    assert len(forms) >= 2
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.github-issue-forms", *forms)
    assert result.returncode == 0, result.stdout + result.stderr
    config = str(GITHUB / "ISSUE_TEMPLATE" / "config.yml")
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.github-issue-config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_codeowners_name_paths_that_exist() -> None:
    lines = (GITHUB / "CODEOWNERS").read_text().splitlines()
    rules = [line.split() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0][0] == "*", "every file has an owner"
    for pattern, *owners in rules[1:]:
        assert (ROOT / pattern.lstrip("/")).exists(), pattern
        assert owners and all(re.fullmatch(r"@[\w-]+/[\w-]+", o) for o in owners), pattern


def test_the_cluster_step_applies_the_pushed_images(tmp_path: Path) -> None:
    """The model-service job's script, run with a stand-in kubectl: it points kustomize at the
    images the previous job pushed, applies deploy/k8s, waits for the track record's migration
    and for the rollout."""
    deploy = load(GITHUB / "workflows" / "deploy.yml")
    (script,) = [s["run"] for s in deploy["jobs"]["model-service"]["steps"] if "run" in s]
    shutil.copytree(ROOT / "deploy" / "k8s", tmp_path / "deploy" / "k8s")
    stub = tmp_path / "bin" / "kubectl"
    stub.parent.mkdir()
    stub.write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/kubectl.log\n')
    stub.chmod(0o755)
    images = {
        "MODEL_IMAGE": "ghcr.io/acme/tickercast-model:0123abc",
        "WEB_IMAGE": "ghcr.io/acme/tickercast-web:0123abc",
    }
    env = {"PATH": f"{stub.parent}:/usr/bin:/bin", "RUNNER_TEMP": str(tmp_path)}
    env |= {"KUBECONFIG_DATA": "apiVersion: v1", **images}
    subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, check=True, timeout=30)
    kustomization = yaml.safe_load((tmp_path / "deploy" / "k8s" / "kustomization.yaml").read_text())
    assert kustomization["images"] == [
        {
            "name": "tickercast-model",
            "newName": "ghcr.io/acme/tickercast-model",
            "newTag": "0123abc",
        },
        {"name": "tickercast-web", "newName": "ghcr.io/acme/tickercast-web", "newTag": "0123abc"},
    ]
    assert kustomization["resources"]
    calls = (tmp_path / "kubectl.log").read_text().splitlines()
    assert calls == [
        "apply -k deploy/k8s",
        "wait --for=condition=complete job/tickercast-db-upgrade --timeout=10m",
        "rollout status deployment/tickercast-model --timeout=10m",
    ]
    assert not (tmp_path / "kubeconfig").exists(), "the credentials do not outlive the step"
