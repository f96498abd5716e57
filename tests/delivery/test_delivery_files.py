"""The delivery files (images, compose stack, Kubernetes manifests, workflows) checked
statically: no Docker engine or cluster runs here. Each check is also shown to catch a
broken copy, so a pass means something."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tabship.settings import unknown_variables

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
MANIFESTS = sorted((REPO / "deploy" / "k8s").glob("*.yaml"))
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
COMPOSE = REPO / "deploy" / "compose.yaml"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=120, check=False
    )


def _passes(*args: str | Path) -> None:
    done = _run(*args)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def _fails(*args: str | Path) -> None:
    assert _run(*args).returncode != 0


def _broken(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    copy = tmp_path / source.name
    copy.write_text(text.replace(old, new, 1))
    return copy


def test_workflows_follow_the_schema_and_have_no_security_findings(tmp_path: Path) -> None:
    assert {w.name for w in WORKFLOWS} == {"ci.yml", "cd.yml", "ct.yml"}
    _passes(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *WORKFLOWS)
    _passes(BIN / "zizmor", "--offline", "--no-progress", *WORKFLOWS)
    typo = _broken(tmp_path, WORKFLOWS[1], "runs-on:", "run-on:")
    _fails(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", typo)
    injected = tmp_path / "injected.yml"
    injected.write_text(
        "on: {workflow_dispatch: {inputs: {data: {type: string}}}}\n"
        "permissions: {}\n"
        "jobs:\n  x:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - run: echo ${{ inputs.data }}\n"
    )
    _fails(BIN / "zizmor", "--offline", "--no-progress", injected)


def test_the_approval_job_is_bound_to_the_protected_environment() -> None:
    ct = yaml.safe_load((REPO / ".github" / "workflows" / "ct.yml").read_text())
    approve = ct["jobs"]["approve"]
    assert approve["environment"] == "model-approval"
    assert approve["needs"] == "train"
    assert "version" in approve["if"]  # nothing new trained, nothing to approve
    script = " ".join(step.get("run", "") for step in approve["steps"])
    assert "tabship models approve" in script
    assert "approvals" in script
    assert ct["jobs"]["train"]["environment"] == "training"
    cd = yaml.safe_load((REPO / ".github" / "workflows" / "cd.yml").read_text())
    assert cd["jobs"]["production"]["environment"] == "production"
    assert set(cd["jobs"]["production"]["needs"]) == {"images", "staging"}


def test_continuous_training_retrains_when_the_drift_check_finds_drift() -> None:
    ct = yaml.safe_load((REPO / ".github" / "workflows" / "ct.yml").read_text())
    drift = ct["jobs"]["drift"]
    script = " ".join(step.get("run", "") for step in drift["steps"])
    assert "tabship monitor drift" in script
    assert '"$code" = 3' in script  # exit 3 is drift, any other failure stays a failure
    train = ct["jobs"]["train"]
    assert train["needs"] == "drift"
    assert "DRIFTED" in train["env"]
    retrain = " ".join(step.get("run", "") for step in train["steps"])
    assert '"$DRIFTED" = true' in retrain
    assert ct["jobs"]["approve"]["needs"] == "train"  # a person still approves


def test_the_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    _passes(BIN / "hadolint", DOCKERFILE)
    unpinned = tmp_path / "Dockerfile"
    unpinned.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    _fails(BIN / "hadolint", unpinned)


def test_the_serving_image_runs_unprivileged_with_only_the_serve_extra() -> None:
    text = DOCKERFILE.read_text()
    serve = text[text.index("AS serve\n") : text.index("AS pipeline")]
    assert "USER 10001" in serve
    assert "HEALTHCHECK" in serve
    assert "/healthz" in serve
    assert re.search(
        r"AS build-serve\nRUN uv sync --frozen --no-dev --no-editable --extra serve\n", text
    )


def test_manifests_are_valid_kubernetes_objects(tmp_path: Path) -> None:
    _passes(BIN / "kubernetes-validate", "--strict", *MANIFESTS)
    unknown = _broken(
        tmp_path, REPO / "deploy" / "k8s" / "predictions.yaml", "maxSurge", "maxSurges"
    )
    _fails(BIN / "kubernetes-validate", "--strict", unknown)


def test_deployments_roll_without_losing_capacity_and_probe_health() -> None:
    objects = [d for m in MANIFESTS for d in yaml.safe_load_all(m.read_text()) if d]
    deployments = {d["metadata"]["name"]: d for d in objects if d["kind"] == "Deployment"}
    assert {"features", "predictions", "mlflow"} <= set(deployments)
    for name in ("features", "predictions"):
        spec = deployments[name]["spec"]
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        container = spec["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        sources = {next(iter(s)) for s in container["envFrom"]}
        assert sources == {"configMapRef", "secretRef"}
    scaled = {
        d["spec"]["scaleTargetRef"]["name"]
        for d in objects
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    assert "predictions" in scaled
    assert not [d for d in objects if d["kind"] == "Secret"]  # secrets come from a secret store
    board = deployments["dashboard"]["spec"]
    assert board["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (container,) = board["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["TABSHIP_DASHBOARD_API_KEY"]["valueFrom"]  # never in plain
    assert env["TABSHIP_DASHBOARD_LOGIN"]["value"] == "true"  # officers sign in first
    services = {d["metadata"]["name"]: d for d in objects if d["kind"] == "Service"}
    assert services["dashboard"]["spec"]["type"] == "ClusterIP"  # personal data: not exposed


def test_the_prediction_log_outlives_pods_and_each_replica_writes_its_own_files() -> None:
    objects = [d for m in MANIFESTS for d in yaml.safe_load_all(m.read_text()) if d]
    pod = next(d for d in objects if d["metadata"]["name"] == "predictions")["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    claim = volumes[mounts["/var/lib/tabship/predictions"]]["persistentVolumeClaim"]
    claims = {d["metadata"]["name"]: d for d in objects if d["kind"] == "PersistentVolumeClaim"}
    assert claims[claim["claimName"]]["spec"]["accessModes"] == ["ReadWriteMany"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["TABSHIP_PREDLOG_PER_HOST"] == "true"
    assert not unknown_variables({k: v for k, v in env.items() if v is not None})
    stack = yaml.safe_load(COMPOSE.read_text())["services"]
    for service in ("predictions", "pipeline"):  # the replicas write it, the jobs read it
        assert "predictions-log:/var/lib/tabship/predictions" in stack[service]["volumes"]
    assert stack["predictions"]["environment"]["TABSHIP_PREDLOG_PER_HOST"] == "true"


def test_the_compose_stack_follows_the_compose_specification(tmp_path: Path) -> None:
    _passes(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE)
    wrong = _broken(tmp_path, COMPOSE, "restart: unless-stopped", "restarts: unless-stopped")
    _fails(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", wrong)
    stack = yaml.safe_load(COMPOSE.read_text())["services"]
    assert stack["predictions"]["deploy"]["replicas"] == 2
    assert "postgresql" in " ".join(stack["mlflow"]["command"])
    assert stack["predictions"]["environment"]["TABSHIP_ONLINE"] == "redis"
    assert stack["predictions"]["build"]["target"] == "serve-explain"
    board = stack["dashboard"]
    assert board["build"]["target"] == "dashboard"
    assert board["environment"]["TABSHIP_DASHBOARD_API_URL"] == "http://gateway:8080"
    assert all(p.startswith("127.0.0.1:") for p in board["ports"])  # this host only
    assert board["environment"]["TABSHIP_DASHBOARD_LOGIN"] == "true"  # officers sign in first


@pytest.mark.parametrize("script", ["deploy.sh", "smoke.sh"])
def test_the_deploy_scripts_parse(script: str) -> None:
    _passes("bash", "-n", REPO / "scripts" / script)


def _settings_of(env: dict[str, str]) -> dict[str, str]:
    return {k: str(v) for k, v in env.items() if k.startswith("TABSHIP_")}


def test_the_shipped_configurations_close_personal_data_and_name_only_real_settings() -> None:
    stack = yaml.safe_load(COMPOSE.read_text())["services"]
    config = next(
        d
        for m in MANIFESTS
        for d in yaml.safe_load_all(m.read_text())
        if d and d["kind"] == "ConfigMap"
    )
    for env in (
        stack["predictions"]["environment"],
        stack["features"]["environment"],
        config["data"],
    ):
        named = _settings_of(env)
        assert named["TABSHIP_OPEN_SCOPES"] == "[]"  # no route but health is anonymous
        assert named["TABSHIP_HIDE_INPUT_VALUES"] == "true"
        assert not unknown_variables(named), unknown_variables(named)
    assert not unknown_variables(_settings_of(stack["dashboard"]["environment"]))
    assert unknown_variables({"TABSHIP_OPEN_SCOPE": "[]"}) != []  # the check can fail
