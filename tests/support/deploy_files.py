"""Reading the deploy files the way their tools do: Dockerfile instructions, Kubernetes
manifests and the pods inside them."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILES = {"model": DEPLOY / "Dockerfile.model", "web": DEPLOY / "Dockerfile.web"}
# The image names the manifests use; the deploy workflow points them at the pushed images.
IMAGES = {"tickercast-model": "model", "tickercast-web": "web"}


@dataclass
class Dockerfile:
    """The instructions of a Dockerfile: continuation lines joined, comments dropped."""

    instructions: list[tuple[str, str]]
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        text = re.sub(r"\\\n", " ", path.read_text())
        instructions = []
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                word, _, rest = line.partition(" ")
                instructions.append((word.upper(), rest.strip()))
        env: dict[str, str] = {}
        for word, rest in instructions:
            if word == "ENV":
                for item in shlex.split(rest):
                    name, _, value = item.partition("=")
                    env[name] = value
        return cls(instructions, env)

    def only(self, word: str) -> str:
        found = [rest for w, rest in self.instructions if w == word]
        assert len(found) == 1, f"expected one {word}, found {len(found)}"
        return found[0]

    def exec_form(self, word: str) -> list[str]:
        """The JSON array of CMD, or of HEALTHCHECK after its options."""
        rest = self.only(word)
        array = rest[rest.index("[") :]
        return list(json.loads(array))

    def user(self) -> tuple[int, int]:
        uid, _, gid = self.only("USER").partition(":")
        return int(uid), int(gid)


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def all_documents() -> list[dict[str, Any]]:
    return [doc for path in manifests() for doc in documents(path)]


def find(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in all_documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_template(workload: dict[str, Any]) -> dict[str, Any]:
    if workload["kind"] == "CronJob":
        return dict(workload["spec"]["jobTemplate"]["spec"]["template"])
    return dict(workload["spec"]["template"])


def workloads() -> Iterator[dict[str, Any]]:
    for doc in all_documents():
        if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}:
            yield doc


def container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = pod_template(workload)["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def env_values(c: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}


def quantity(text: str | int) -> float:
    """A Kubernetes quantity in bytes (memory) or cores (cpu)."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9, "m": 1e-3}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(text))
    assert match, f"not a quantity: {text}"
    return float(match.group(1)) * units.get(match.group(2), 1)
