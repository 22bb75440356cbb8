"""Deployment files are checked offline (no Docker engine on the build machines)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slate_common.config import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SERVICES = ("auth", "production", "media", "import-export", "planning")


def _check_jsonschema() -> str:
    for candidate in (Path(sys.executable).parent / "check-jsonschema", Path(sys.prefix) / "bin" / "check-jsonschema"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("check-jsonschema")
    if not found:
        pytest.fail("check-jsonschema is not installed (a test dependency: make test installs it)")
    return found


def _compose() -> dict[str, Any]:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(COMPOSE.read_text())  # type: ignore[no-any-return]


def _dockerfile_targets() -> set[str]:
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", DOCKERFILE.read_text(), flags=re.M | re.I))


def test_compose_file_matches_the_compose_spec() -> None:
    res = subprocess.run(
        [_check_jsonschema(), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_compose_runs_the_whole_suite() -> None:
    services = _compose()["services"]
    for name in ("postgres", "nats", "s3", "mail", "migrate", "gateway", *SERVICES):
        assert name in services, name
    assert "-js" in services["nats"]["command"]
    assert services["migrate"]["restart"] == "no"
    for name in SERVICES:
        module = "slate_" + name.replace("-", "_")
        assert services[f"{name}-worker"]["command"] == ["python", "-m", module, "worker"]
        assert services[f"{name}-worker"]["image"] == services[name]["image"]  # the service's own image
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        env = services[name]["environment"]
        assert env["SLATE_POSTGRES_URL"].startswith("postgresql+asyncpg://")
        assert env["SLATE_HOST"] == "0.0.0.0"  # noqa: S104 - inside a container
        assert env["SLATE_S3_ENDPOINT"] == "s3:8333"
        assert (env["SLATE_SMTP_HOST"], env["SLATE_SMTP_PORT"]) == ("mail", "1025")
    assert services["media"]["environment"]["SLATE_MEDIA_JOBS_ENABLED"] == "false"
    assert services["media-worker"]["environment"]["SLATE_MEDIA_JOBS_ENABLED"] == "true"
    for name in SERVICES:
        env_key = "SLATE_" + name.upper().replace("-", "_") + "_URL"
        assert services["gateway"]["environment"][env_key].startswith(f"http://{name}:")


def test_every_image_is_pinned() -> None:
    for name, spec in _compose()["services"].items():
        image = spec["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and "/" not in tag, (name, image)
        assert tag != "latest" and re.search(r"\d", tag), (name, image)
        assert "minio" not in image  # MinIO's image is no longer published


def test_healthchecks_back_every_depends_on_condition() -> None:
    services = _compose()["services"]
    for name, spec in services.items():
        for dep, cond in (spec.get("depends_on") or {}).items():
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy: it has no healthcheck"
            elif cond["condition"] == "service_completed_successfully":
                assert services[dep]["restart"] == "no", dep
            else:
                pytest.fail(f"{name} -> {dep}: {cond}")
    long_running = [n for n, s in services.items() if s.get("restart") != "no" and not n.endswith("-worker")]
    assert all("healthcheck" in services[n] for n in long_running), long_running
    for name in SERVICES:  # healthy = ready: the database and NATS are reachable
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert "/readyz" in probe and services[name]["environment"]["HEALTH_PORT"] == str(DEFAULT_PORTS[name])


def test_admin_is_created_the_way_the_readme_says() -> None:
    migrate = _compose()["services"]["migrate"]
    script = migrate["command"][-1]
    assert script.startswith("slate migrate && slate create-admin --email ")
    assert migrate["environment"]["SLATE_ADMIN_EMAIL"] == "${SLATE_ADMIN_EMAIL:-admin@example.com}"
    assert migrate["environment"]["SLATE_ADMIN_PASSWORD"] == "${SLATE_ADMIN_PASSWORD:-slate-admin-password}"
    readme = (ROOT / "README.md").read_text()
    assert "slate create-admin --email E --password P" in readme
    assert "`admin@example.com` / `slate-admin-password`" in readme
    from slate_common.cli import build_parser

    args = build_parser().parse_args(["create-admin", "--email", "a@b.c", "--password", "p"])
    assert args.command == "create-admin"


def test_s3_server_gets_the_credentials_slate_uses() -> None:
    compose = _compose()
    identities = compose["configs"]["s3-identities"]["content"]
    env = compose["services"]["auth"]["environment"]
    assert "${SLATE_S3_ACCESS_KEY:-slate}" in identities and env["SLATE_S3_ACCESS_KEY"] == "${SLATE_S3_ACCESS_KEY:-slate}"
    assert "${SLATE_S3_SECRET_KEY:-slate-secret-key}" in identities
    s3 = compose["services"]["s3"]
    assert "-s3.config=/etc/seaweedfs/s3.json" in s3["command"]
    assert s3["configs"][0]["target"] == "/etc/seaweedfs/s3.json"


def test_every_build_target_exists_in_the_dockerfile() -> None:
    targets = _dockerfile_targets()
    assert {*SERVICES, "gateway", "all"} <= targets
    for name, spec in _compose()["services"].items():
        if "build" in spec:
            assert spec["build"]["target"] in targets, name


def _stages() -> dict[str, list[str]]:
    """target -> its lines, from each ``FROM ... AS target`` to the next."""
    stages: dict[str, list[str]] = {}
    current = None
    for line in DOCKERFILE.read_text().splitlines():
        found = re.match(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", line, flags=re.I)
        if found:
            current = found.group(1)
            stages[current] = [line]
        elif current:
            stages[current].append(line)
    return stages


def test_dockerfile_builds_one_small_non_root_image_per_service() -> None:
    stages = _stages()
    for target in (*SERVICES, "gateway", "all"):
        lines = stages[target]
        assert lines[0].split()[1] == "runtime", target  # the slim runtime, not the build stage
        copies = [ln for ln in lines if ln.startswith("COPY")]
        assert copies == [f"COPY --from=build-{target} /opt/venv /opt/venv"], target  # only the virtualenv
        assert "USER 10001:10001" in lines, target
        assert not any("pip install" in ln for ln in lines), target
    for target in SERVICES:
        module = "slate_" + target.replace("-", "_")
        assert f'CMD ["python", "-m", "{module}", "serve"]' in stages[target]
        assert any(f"pip install /src/services/{target}" in ln for ln in stages[f"build-{target}"])
    base = DOCKERFILE.read_text()
    image = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", base, flags=re.M)
    assert image and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", image.group(1))
    # the uid the manifests run as is the image's user
    assert "--uid 10001" in "\n".join(stages["runtime"])


def test_kubernetes_manifests_present() -> None:
    assert (ROOT / "deploy" / "k8s" / "base" / "kustomization.yaml").exists()
    assert (ROOT / "deploy" / "k8s" / "README.md").read_text().strip()


def test_compose_sets_only_real_settings() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    from gen_config_reference import all_env_names

    known = all_env_names() | {"HEALTH_PORT"}  # HEALTH_PORT: read by the healthcheck command only
    services = _compose()["services"]
    names = {name for spec in services.values() if str(spec.get("image", "")).startswith("slate/")
             for name in spec.get("environment", {})}
    assert {"SLATE_POSTGRES_URL", "SLATE_SMTP_HOST", "SLATE_MEDIA_JOBS_ENABLED"} <= names
    assert names - known == set()
