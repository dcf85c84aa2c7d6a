"""The deploy files point at things that exist and pass the checks their platforms make.

No container engine or cluster runs here, so: every manifest is validated against the
Kubernetes schemas of a pinned version (kubernetes-validate, offline, strict), and the rules
a cluster or a reviewer would apply are checked one by one: numeric non-root users that match
the images', probe paths the apps serve, commands the CLI parses, sizes from the benchmark."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import exchange_calendars as xcals
import kubernetes_validate
import pytest
from starlette.routing import Match

from tests.support.deploy_files import (
    DOCKERFILES,
    IMAGES,
    K8S,
    ROOT,
    Dockerfile,
    all_documents,
    container,
    documents,
    env_values,
    find,
    manifests,
    pod_template,
    quantity,
    workloads,
)
from tickercast.cli import build_parser
from tickercast.cli.processes import free_port, stop, wait_ready
from tickercast.model.api import create_app as create_model_app
from tickercast.settings import ModelSettings, WebSettings
from tickercast.web.app import create_app as create_web_app

# The oldest Kubernetes release the manifests are written for (CronJob time zones, restricted
# security contexts and autoscaling/v2 are all older). Raise it when clusters move on.
KUBERNETES_VERSION = "1.34.0"


def serves(image: str, path: str) -> bool:
    """The image's app has a route for GET `path` (asked of its routes, included routers too)."""
    if image == "model":
        app = create_model_app(ModelSettings(model_api_keys="k", model_mock=True))
    else:
        app = create_web_app(WebSettings(model_api_url="http://127.0.0.1:9/", model_api_key="k"))
    scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
    return any(route.matches(scope)[0] == Match.FULL for route in app.routes)


def image_of(workload: dict[str, Any]) -> str | None:
    return IMAGES.get(container(workload)["image"])


# --- the images ---------------------------------------------------------------------------


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_image_runs_as_a_numeric_non_root_user(image: str) -> None:
    dockerfile = Dockerfile.read(DOCKERFILES[image])
    uid, gid = dockerfile.user()
    assert uid >= 1000 and gid >= 1000, "a numeric user that is not root nor a system account"
    run = " ".join(rest for word, rest in dockerfile.instructions if word == "RUN")
    assert f"--uid {uid}" in run and f"--gid {gid}" in run, "the user exists in the image"


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_image_pins_its_base_to_the_projects_python(image: str) -> None:
    base = Dockerfile.read(DOCKERFILES[image]).only("FROM")
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base)
    assert match, f"{base} is not an exact version tag"
    python = (ROOT / ".python-version").read_text().strip()
    assert f"{match.group(1)}.{match.group(2)}" == python


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_image_healthcheck_asks_the_liveness_route(image: str) -> None:
    dockerfile = Dockerfile.read(DOCKERFILES[image])
    healthcheck = dockerfile.exec_form("HEALTHCHECK")
    assert healthcheck[:2] == ["python", "-c"]
    compile(healthcheck[2], "HEALTHCHECK", "exec")
    path = re.search(r"/[a-z]+'", healthcheck[2])
    assert path and serves(image, path.group(0).rstrip("'"))
    assert "--start-period=" in dockerfile.only("HEALTHCHECK")


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_image_command_parses(image: str) -> None:
    shell = Dockerfile.read(DOCKERFILES[image]).exec_form("CMD")
    assert shell[:2] == ["sh", "-c"]
    words = re.sub(r"\$\{[A-Z_]+:-(\w+)\}", r"\1", shell[2]).split()
    assert words[:2] == ["exec", "tickercast"]
    assert build_parser().parse_args(words[2:]).command == image


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_image_copies_what_the_package_build_reads(image: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    copied = {
        word.rstrip("/")
        for w, rest in Dockerfile.read(DOCKERFILES[image]).instructions
        if w == "COPY"
        for word in rest.split()[:-1]
    }
    assert {"pyproject.toml", "src", project["readme"], *project["license-files"]} <= copied


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


# --- the manifests against Kubernetes' own schemas ----------------------------------------


@pytest.mark.parametrize(
    "doc", all_documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}"
)
def test_manifest_matches_the_kubernetes_schema(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda c: c.update(readinesProbe=c["readinessProbe"]),  # a misspelt field
        lambda c: c["securityContext"].update(runAsUser="tickercast"),  # a name, not a number
        lambda c: c["resources"]["requests"].update(memory=[640]),  # a wrong type
    ],
    ids=["misspelt-field", "user-name-not-number", "wrong-type"],
)
def test_the_schema_check_catches_a_broken_manifest(break_it: Any) -> None:
    deployment = copy.deepcopy(find("Deployment", "tickercast-model"))
    break_it(pod_template(deployment)["spec"]["containers"][0])
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_kustomization_deploys_every_manifest_but_the_optional_web_app() -> None:
    kustomization = documents(K8S / "kustomization.yaml")[0]
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in manifests()} - {"web.yaml"}


# --- security ------------------------------------------------------------------------------


@pytest.mark.parametrize("workload", list(workloads()), ids=lambda w: w["metadata"]["name"])
def test_every_pod_runs_restricted(workload: dict[str, Any]) -> None:
    """What the Kubernetes "restricted" pod security standard asks, and a read-only root."""
    pod = pod_template(workload)["spec"]
    c = container(workload)
    security = {**pod.get("securityContext", {}), **c["securityContext"]}
    assert security["runAsNonRoot"] is True
    assert isinstance(security["runAsUser"], int) and security["runAsUser"] > 0
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in c.get("volumeMounts", []):
        assert "emptyDir" in volumes[mount["name"]], "writable space only in emptyDirs"
    if image_of(workload):
        assert "/tmp" in {m["mountPath"] for m in c["volumeMounts"]}, "the app writes to /tmp"
    assert "memory" in c["resources"]["limits"]


@pytest.mark.parametrize("workload", list(workloads()), ids=lambda w: w["metadata"]["name"])
def test_pods_run_as_their_images_user(workload: dict[str, Any]) -> None:
    image = image_of(workload)
    if image is None:  # Redis: its image's own numeric user
        return
    uid, gid = Dockerfile.read(DOCKERFILES[image]).user()
    pod_context = pod_template(workload)["spec"]["securityContext"]
    container_context = container(workload)["securityContext"]
    for context in (pod_context, container_context):
        assert (context["runAsUser"], context["runAsGroup"]) == (uid, gid)


@pytest.mark.parametrize("workload", list(workloads()), ids=lambda w: w["metadata"]["name"])
def test_secrets_come_from_secret_objects_only(workload: dict[str, Any]) -> None:
    c = container(workload)
    for name in env_values(c):
        assert not re.search(r"KEYS?$|TOKEN|PASSWORD|SECRET", name), f"{name} set in the manifest"
    if image_of(workload):
        assert [ref["secretRef"]["name"] for ref in c["envFrom"]], "keys from a Secret"
    assert not [d for d in all_documents() if d["kind"] == "Secret"], "no Secret in the repo"


# --- the model service -----------------------------------------------------------------------


def bench_peak_rss_mb() -> float:
    """The largest peak RSS per worker of ours in bench/README.md's last run."""
    text = (ROOT / "bench" / "README.md").read_text()
    table = text.split("### Peak memory", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| ours[^|]*\| ([0-9., ]+) \|$", table, flags=re.M)
    assert rows, "the bench README has no peak memory table"
    return max(float(v) for row in rows for v in row.split(","))


def test_model_memory_is_sized_from_the_benchmark() -> None:
    deployment = find("Deployment", "tickercast-model")
    c = container(deployment)
    workers = int(env_values(c)["MODEL_WORKERS"])
    workers_mb = workers * bench_peak_rss_mb()
    request = quantity(c["resources"]["requests"]["memory"]) / 2**20
    limit = quantity(c["resources"]["limits"]["memory"]) / 2**20
    # The workers' peak, then a quarter more for the arbiter, CmdStan and larger series.
    assert workers_mb * 1.25 <= request <= workers_mb * 2
    assert limit >= 2 * workers_mb


def test_model_runs_one_fit_per_requested_core() -> None:
    c = container(find("Deployment", "tickercast-model"))
    assert int(env_values(c)["MODEL_FIT_SLOTS"]) == quantity(c["resources"]["requests"]["cpu"])


@pytest.mark.parametrize("name", ["tickercast-model", "tickercast-web"])
def test_probes_use_routes_the_app_serves(name: str) -> None:
    deployment = find("Deployment", name)
    c = container(deployment)
    probes = {p: c[p]["httpGet"]["path"] for p in c if p.endswith("Probe")}
    assert probes["livenessProbe"] == "/healthz" and probes["readinessProbe"] == "/readyz"
    assert all(serves(IMAGES[name], path) for path in probes.values())
    port = c["ports"][0]["containerPort"]
    assert f"${{PORT:-{port}}}" in Dockerfile.read(DOCKERFILES[IMAGES[name]]).only("CMD")


@pytest.mark.parametrize("name", ["tickercast-model", "tickercast-web", "tickercast-redis"])
def test_service_selects_its_deployment(name: str) -> None:
    deployment = find("Deployment", name)
    service = find("Service", name)
    labels = pod_template(deployment)["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    port_names = {p["name"] for p in container(deployment)["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names


def test_autoscaler_and_disruption_budget_keep_a_replica_serving() -> None:
    deployment = find("Deployment", "tickercast-model")
    hpa = find("HorizontalPodAutoscaler", "tickercast-model")
    pdb = find("PodDisruptionBudget", "tickercast-model")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert 1 <= pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    assert "cpu" in container(deployment)["resources"]["requests"], "the HPA scales on CPU"


def test_model_ingress_is_tls_and_only_the_contracts_routes() -> None:
    ingress = find("Ingress", "tickercast-model")
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert hosts <= {h for tls in ingress["spec"]["tls"] for h in tls["hosts"]}
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert {p["backend"]["service"]["name"] for p in paths} == {"tickercast-model"}
    assert {p["pathType"] for p in paths} == {"Exact"}, "no /metrics or /openapi.json outside"
    contract = (ROOT / "docs" / "contract.md").read_text()
    assert {p["path"] for p in paths} == set(re.findall(r"^## .*`POST (/\S*)`", contract, re.M))
    fields = ModelSettings.model_fields
    body_limit = max(fields[f].default for f in ("model_max_body_bytes", "model_batch_max_bytes"))
    proxy_limit = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert quantity(proxy_limit.upper() + "i") >= body_limit


def test_network_policy_admits_only_the_ingress_the_web_app_and_the_job() -> None:
    policy = find("NetworkPolicy", "tickercast-model")
    model = find("Deployment", "tickercast-model")
    assert policy["spec"]["podSelector"]["matchLabels"] == model["spec"]["selector"]["matchLabels"]
    (rule,) = policy["spec"]["ingress"]
    admitted = [peer["podSelector"]["matchLabels"] for peer in rule["from"]]
    web = pod_template(find("Deployment", "tickercast-web"))["metadata"]["labels"]
    job = pod_template(find("CronJob", "tickercast-refresh"))["metadata"]["labels"]
    ingress_controller = {"app.kubernetes.io/name": "ingress-nginx"}
    assert sorted(map(str, admitted)) == sorted(map(str, [web, job, ingress_controller]))
    (from_ingress,) = [peer for peer in rule["from"] if "namespaceSelector" in peer]
    assert from_ingress["podSelector"]["matchLabels"] == ingress_controller
    assert [p["port"] for p in rule["ports"]] == [container(model)["ports"][0]["containerPort"]]


def test_redis_has_probes_and_a_bounded_memory() -> None:
    c = container(find("Deployment", "tickercast-redis"))
    assert c["readinessProbe"]["exec"]["command"] == ["redis-cli", "ping"]
    assert "livenessProbe" in c
    maxmemory = quantity(c["args"][c["args"].index("--maxmemory") + 1].upper().replace("B", "i"))
    assert maxmemory < quantity(c["resources"]["limits"]["memory"])


# --- the refresh job -------------------------------------------------------------------------


def start_of(cron: dict[str, Any]) -> tuple[int, int]:
    minute, hour, _, _, weekdays = cron["spec"]["schedule"].split()
    assert weekdays == "1-5"
    return int(hour), int(minute)


def test_the_refresh_jobs_run_after_the_nyse_close_the_nightly_first() -> None:
    nyse = xcals.get_calendar("XNYS")
    close = nyse.close_times[-1][1]
    nightly, viewed = find("CronJob", "tickercast-refresh"), find("CronJob", VIEWED)
    for cron in (nightly, viewed):
        assert cron["spec"]["timeZone"] == str(nyse.tz)
        assert start_of(cron) > (close.hour, close.minute)
        assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    # The viewed tickers' refresh and the scorer start once the nightly run's deadline is past.
    hour, minute = start_of(nightly)
    deadline = nightly["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"]
    assert start_of(viewed) >= divmod(hour * 60 + minute + deadline // 60, 60)


VIEWED = "tickercast-refresh-viewed"


def nightly_step() -> dict[str, Any]:
    """The Indexed Job's one container: `tickercast refresh --universe ... --shard auto/N`."""
    (step,) = pod_template(find("CronJob", "tickercast-refresh"))["spec"]["containers"]
    return dict(step)


def refresh_first() -> dict[str, Any]:
    """The second CronJob's first step (an init container): `tickercast refresh`."""
    (refresh,) = pod_template(find("CronJob", VIEWED))["spec"]["initContainers"]
    return dict(refresh)


def test_the_nightly_run_is_an_indexed_job_of_as_many_pods_as_shards() -> None:
    job = find("CronJob", "tickercast-refresh")["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    args = build_parser().parse_args(nightly_step()["command"][1:])
    assert (args.command, args.universe) == ("refresh", "sp500")
    assert args.backtests  # the morning's backtest panels are cache hits too
    index, count = args.shard.split("/")
    assert index == "auto" and int(count) == job["completions"]  # each shard one pod
    assert 1 <= job["parallelism"] <= job["completions"]
    assert "initContainers" not in pod_template(find("CronJob", "tickercast-refresh"))["spec"]


def test_refresh_has_the_web_apps_settings() -> None:
    viewed = find("CronJob", VIEWED)
    nightly = find("CronJob", "tickercast-refresh")
    model = find("Service", "tickercast-model")
    web = container(find("Deployment", "tickercast-web"))
    assert image_of(viewed) == "web" and image_of(nightly) == "web"
    for c in (refresh_first(), nightly_step()):
        assert IMAGES.get(c["image"]) == "web"
        for name in env_values(c):
            assert name.lower() in WebSettings.model_fields, f"{name} is not a web app setting"
        assert env_values(c)["MODEL_API_URL"] == f"http://{model['metadata']['name']}/"
        assert env_values(c)["REDIS_URL"] == env_values(web)["REDIS_URL"], "the pages' cache"
        assert c["securityContext"] == container(viewed)["securityContext"]
    steps = (refresh_first(), nightly_step(), container(viewed))
    for step in (*steps, container(find("Job", "tickercast-db-upgrade"))):
        assert step["envFrom"] == web["envFrom"], "the same secret as the web app"
    # The model admits both jobs' pods (one label).
    assert pod_template(viewed)["metadata"]["labels"] == pod_template(nightly)["metadata"]["labels"]


def test_no_pod_serves_yahoo_s_prices() -> None:
    """Yahoo's data is for personal use: every pod that reads prices turns it off."""
    steps = [container(find("Deployment", "tickercast-web")), refresh_first(), nightly_step()]
    steps.append(container(find("CronJob", VIEWED)))  # the scorer
    for step in steps:
        assert env_values(step).get("YAHOO_PRICES") == "false", step["name"]


def test_refresh_then_score_and_the_migration_commands_parse() -> None:
    command = refresh_first()["command"]
    assert command == ["tickercast", "refresh", "--concurrency", "2"]
    args = build_parser().parse_args(command[1:])
    assert (args.command, args.concurrency, args.universe) == ("refresh", 2, None)
    score = container(find("CronJob", VIEWED))["command"]
    assert build_parser().parse_args(score[1:]).command == "score"
    upgrade = container(find("Job", "tickercast-db-upgrade"))["command"]
    args = build_parser().parse_args(upgrade[1:])
    assert (args.command, args.action, args.revision) == ("db", "upgrade", "head")


# --- the closest thing to running the images here ----------------------------------------


def image_environment(image: str, tmp: Path, port: int) -> dict[str, str]:
    """The image's ENV (its /tmp moved to `tmp`), the settings a pod gets, and no HOME."""
    dockerfile = Dockerfile.read(DOCKERFILES[image])
    env = {k: v.replace("/tmp", str(tmp)) for k, v in dockerfile.env.items()}
    env |= {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/nonexistent"}
    env |= {"TMPDIR": str(tmp), "PORT": str(port)}
    if image == "model":
        return env | {"MODEL_API_KEYS": "k", "MODEL_WORKERS": "1"}
    return env | {"MODEL_API_URL": f"http://127.0.0.1:{free_port()}/", "MODEL_API_KEY": "k"}


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="runs a process as another user: needs root and setpriv",
)
@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_image_command_serves_as_its_user_writing_only_to_tmp(image: str, tmp_path: Path) -> None:
    """No container engine here: the image's CMD runs as the image's numeric user, with only
    its temp folder writable (the pod's /tmp emptyDir), until ready; then its HEALTHCHECK
    passes, and fails once the process has stopped. The user may read anything (a capability
    that stands in for the image's world-readable /usr/local) but write nothing else."""
    dockerfile = Dockerfile.read(DOCKERFILES[image])
    uid, gid = dockerfile.user()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    os.chown(tmp, uid, gid)
    port = free_port()
    env = image_environment(image, tmp, port)
    as_user = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    as_user += ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    log_path = tmp_path / "service.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*as_user, *dockerfile.exec_form("CMD")],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    healthcheck = [*as_user, *dockerfile.exec_form("HEALTHCHECK")]
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", process, f"{image} image", timeout=120)
        assert subprocess.run(healthcheck, env=env, timeout=30).returncode == 0
        written = list(tmp.rglob("*"))
        assert written and all(path.stat().st_uid == uid for path in written)
    finally:
        stop(process)
    log_text = log_path.read_text(errors="replace")
    assert process.returncode == 0, log_text
    assert "Permission denied" not in log_text and "Read-only" not in log_text
    failed = subprocess.run(healthcheck, env=env, timeout=30, capture_output=True)
    assert failed.returncode != 0
