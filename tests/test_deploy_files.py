"""Deployment files are checked offline (no Docker engine on the build machines)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
    for name in ("postgres", "nats", "minio", "migrate", "gateway", "media-worker", *SERVICES):
        assert name in services, name
    assert "-js" in services["nats"]["command"]
    assert services["migrate"]["restart"] == "no"
    assert services["media-worker"]["command"][-1] == "worker"
    for name in SERVICES:
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        env = services[name]["environment"]
        assert env["SLATE_POSTGRES_URL"].startswith("postgresql+asyncpg://")
        assert env["SLATE_HOST"] == "0.0.0.0"  # noqa: S104 - inside a container
    for name in SERVICES:
        env_key = "SLATE_" + name.upper().replace("-", "_") + "_URL"
        assert services["gateway"]["environment"][env_key].startswith(f"http://{name}:")


def test_every_build_target_exists_in_the_dockerfile() -> None:
    targets = _dockerfile_targets()
    assert {*SERVICES, "gateway", "all"} <= targets
    for name, spec in _compose()["services"].items():
        if "build" in spec:
            assert spec["build"]["target"] in targets, name


def test_kubernetes_readme_present() -> None:
    assert (ROOT / "deploy" / "k8s" / "README.md").read_text().strip()
