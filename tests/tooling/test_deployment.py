"""The deployment files (deploy/compose.yaml, deploy/k8s/) parse, check the health of every
long-running container, and set only settings that docs/deploy.md documents and the code reads:
bot/settings.py for the app, endpoints.yml for Rasa. Every required setting is set."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.health import router as health_router
from bot.run_local import PROCESS_TUNING

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / "deploy"
DOC = (PROJECT / "docs" / "deploy.md").read_text(encoding="utf-8")
# Who reads the settings each project container sets (docs/deploy.md's "read by" column).
READER = {"app": "app", "rasa": "Rasa", "actions": "action server"}
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")


def documented() -> dict[str, tuple[set[str], bool]]:
    """docs/deploy.md's settings table: variable -> (who reads it, whether a deployment must set it)."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \| ([^|]+) \|", DOC, re.MULTILINE)
    return {
        name: ({r.strip() for r in readers.split(",")}, need.strip().startswith("yes")) for name, readers, need in rows
    }


def read_by_the_code() -> dict[str, str]:
    app = re.findall(r'_env\(\s*"([A-Z_]+)"', (PROJECT / "bot" / "settings.py").read_text(encoding="utf-8"))
    rasa = re.findall(r"\$\{([A-Z_]+)\}", (PROJECT / "endpoints.yml").read_text(encoding="utf-8"))
    return {**{name: "Rasa" for name in rasa}, **{name: "app" for name in app}}


def required_for(reader: str) -> set[str]:
    return {name for name, (readers, required) in documented().items() if required and reader in readers}


def k8s_documents() -> list[dict]:
    documents = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        documents += [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document]
    return documents


def containers(kinds: tuple[str, ...]) -> list[dict]:
    return [
        container
        for document in k8s_documents()
        if document["kind"] in kinds
        for container in document["spec"]["template"]["spec"]["containers"]
    ]


def test_the_settings_table_documents_every_setting_the_code_reads_and_no_other() -> None:
    table, code = documented(), read_by_the_code()
    assert set(table) == set(code)
    for name, reader in code.items():
        assert reader in table[name][0], f"{name} is read by {reader}"


def test_every_kubernetes_workload_container_has_liveness_and_readiness_probes() -> None:
    workload_containers = containers(WORKLOADS)
    assert {container["name"] for container in workload_containers} == set(READER)
    for container in workload_containers:
        assert "livenessProbe" in container and "readinessProbe" in container, container["name"]
    app = next(container for container in workload_containers if container["name"] == "app")
    health_paths = {route.path for route in health_router.routes}
    probes = {kind: app[kind]["httpGet"]["path"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert set(probes.values()) <= health_paths
    assert probes["startupProbe"] == "/readyz" and probes["livenessProbe"] == "/healthz"


def test_kubernetes_containers_set_documented_settings_and_every_required_one() -> None:
    table = documented()
    config = next(d for d in k8s_documents() if d["kind"] == "ConfigMap")["data"]
    for container in containers((*WORKLOADS, "Job")):
        env = {variable["name"]: variable for variable in container.get("env", [])}
        assert set(env) <= set(table), f"{container['name']} sets undocumented variables"
        if container["name"] in READER:
            assert required_for(READER[container["name"]]) <= set(env), container["name"]
        for variable in env.values():
            source = variable.get("valueFrom", {})
            if "configMapKeyRef" in source:
                assert source["configMapKeyRef"]["key"] in config, variable["name"]
            if "secretKeyRef" in source:
                assert f"`{source['secretKeyRef']['key']}`" in DOC, (
                    f"docs/deploy.md names the secret key of {variable['name']}"
                )
            assert "value" in variable or source, variable["name"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_kubernetes_manifests_build_with_kustomize() -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True, timeout=60, check=False
    )
    assert built.returncode == 0, built.stderr
    kinds = {document["kind"] for document in yaml.safe_load_all(built.stdout)}
    assert {"Deployment", "Service", "Job", "ConfigMap", "NetworkPolicy", "Ingress"} <= kinds


def compose_services() -> dict[str, dict]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))["services"]


def test_every_long_running_compose_service_has_a_health_check() -> None:
    for name, service in compose_services().items():
        one_shot = service.get("restart") == "no"
        assert one_shot or "healthcheck" in service, name


def test_compose_project_services_set_documented_settings_and_every_required_one() -> None:
    table = documented()
    readers = {"app": "app", "rasa-1": "Rasa", "rasa-2": "Rasa", "actions": "action server", "migrate": None}
    services = compose_services()
    project = {name for name, service in services.items() if service.get("image", "").startswith("youthchat-")}
    assert project == set(readers)
    for name in project:
        env = services[name].get("environment", {})
        assert set(env) <= set(table), f"{name} sets undocumented variables"
        assert all(str(value).strip() for value in env.values()), name
        if readers[name]:
            assert required_for(readers[name]) <= set(env), name
    # Both Rasa servers are behind the app.
    assert services["app"]["environment"]["BOT_RASA_URL"].split() == ["http://rasa-1:5005", "http://rasa-2:5005"]


def docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not docker_compose_available(), reason="docker compose is not installed")
def test_docker_compose_accepts_the_file() -> None:
    secrets = {"POSTGRES_PASSWORD": "x", "BOT_RASA_TOKEN": "x", "BOT_CLIENT_KEY_SECRET": "x"}
    checked = subprocess.run(
        ["docker", "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        env={**os.environ, **secrets},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("dockerfile", ["app.Dockerfile", "rasa.Dockerfile"])
def test_both_images_run_their_processes_tuned_as_make_run_does(dockerfile: str) -> None:
    environment = dict(
        re.findall(r"\b([A-Z_]+)=(\S+)", " ".join(re.findall(r"^ENV (.+)$", (DEPLOY / dockerfile).read_text(), re.M)))
    )
    assert {name: environment.get(name) for name in PROCESS_TUNING} == PROCESS_TUNING
