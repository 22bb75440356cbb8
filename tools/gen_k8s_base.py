"""Write the per-service workloads of ``deploy/k8s/base`` (one file per service).

    python tools/gen_k8s_base.py           # rewrite deploy/k8s/base/workloads/*.yaml
    python tools/gen_k8s_base.py --check   # exit 1 if they differ from what this writes

The five services and the gateway share one shape (security context, probes, the
migration initContainer, graceful stop), so it is written once here; the overlays change
replicas, resources and images with kustomize patches. ``tests/test_k8s.py`` fails when the
committed files are not what this script writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "deploy" / "k8s" / "base" / "workloads"

#: service -> (HTTP port, Python module), as in DEFAULT_PORTS and the Dockerfile's targets.
SERVICES: dict[str, tuple[int, str]] = {
    "auth": (8101, "slate_auth"),
    "production": (8102, "slate_production"),
    "media": (8103, "slate_media"),
    "import-export": (8104, "slate_import_export"),
    "planning": (8105, "slate_planning"),
}
GATEWAY_PORT = 8080
UID = 10001  # the `slate` user of the Dockerfile

#: Seconds the pod keeps serving after it is marked terminating, while endpoints and the
#: ingress stop sending it new requests.
PRESTOP_SECONDS = 10
#: uvicorn's graceful shutdown (timeout_graceful_shutdown in slate_common.service_cli).
DRAIN_SECONDS = 10
#: preStop + drain + margin: longer than the drain, so the kubelet never SIGKILLs a drain.
API_GRACE_SECONDS = PRESTOP_SECONDS + DRAIN_SECONDS + 15
#: Workers finish the event or job in hand; an unfinished preview job is handed to another
#: worker by JetStream after SLATE_MEDIA_JOB_ACK_WAIT without heartbeat.
WORKER_GRACE_SECONDS = 60


def labels(name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "slate",
    }


def pod_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


ENV_FROM = [{"configMapRef": {"name": "slate-config"}}, {"secretRef": {"name": "slate-secrets"}}]


def http_probe(path: str, **extra: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "http"}, **extra}


def migrate_init(service: str) -> dict[str, Any]:
    """``slate migrate <service>`` before the pod's containers start: the migration runs
    under a PostgreSQL advisory lock (slate_common.db.migrate_locked), so pods starting
    together take turns and the later ones find the schema at head."""
    return {
        "name": "migrate",
        "image": f"slate-{service}",
        "command": ["slate", "migrate", service],
        "envFrom": ENV_FROM,
        "securityContext": container_security(),
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def deployment(
    name: str,
    component: str,
    *,
    image: str,
    command: list[str],
    replicas: int,
    port: int | None,
    env: list[dict[str, str]],
    resources: dict[str, Any],
    init: list[dict[str, Any]],
    extra_volumes: list[tuple[str, str, str]] | None = None,
    grace: int,
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": component,
        "image": image,
        "command": command,
        "envFrom": ENV_FROM,
        "env": env,
        "securityContext": container_security(),
        "resources": resources,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]
        + [{"name": vol, "mountPath": path} for vol, path, _ in extra_volumes or []],
    }
    if port is not None:
        container["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        container["startupProbe"] = http_probe("/healthz", periodSeconds=2, failureThreshold=60, timeoutSeconds=3)
        container["readinessProbe"] = http_probe("/readyz", periodSeconds=5, failureThreshold=3, timeoutSeconds=3)
        container["livenessProbe"] = http_probe("/healthz", periodSeconds=10, failureThreshold=6, timeoutSeconds=5)
        container["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SECONDS)]}}}
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}]
    volumes += [{"name": vol, "emptyDir": {"sizeLimit": size}} for vol, _, size in extra_volumes or []]
    spec: dict[str, Any] = {
        "serviceAccountName": "slate",
        "automountServiceAccountToken": False,
        "securityContext": pod_security(),
        "terminationGracePeriodSeconds": grace,
        "containers": [container],
        "volumes": volumes,
    }
    if init:
        spec = {**spec, "initContainers": init}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels(name, component)},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"metadata": {"labels": labels(name, component)}, "spec": spec},
        },
    }


def service(name: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels(name, "api")},
        "spec": {
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def pdb(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "slate"}},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}},
    }


def env_upper(service_name: str) -> str:
    return "SLATE_" + service_name.upper().replace("-", "_") + "_"


def service_documents(svc: str) -> list[dict[str, Any]]:
    port, module = SERVICES[svc]
    prefix = env_upper(svc)
    api_env = [{"name": f"{prefix}PORT", "value": str(port)}]
    worker_env: list[dict[str, str]] = []
    api_res = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "768Mi"}}
    worker_res = {"requests": {"cpu": "50m", "memory": "192Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
    api_volumes: list[tuple[str, str, str]] = []
    worker_volumes: list[tuple[str, str, str]] = []
    if svc == "media":
        # Uploads are streamed to scratch files (multi-GB movies), transcodes write there too.
        scratch = "/var/lib/slate/scratch"
        api_env += [{"name": "SLATE_MEDIA_SCRATCH_DIR", "value": scratch},
                    {"name": "SLATE_MEDIA_JOBS_ENABLED", "value": "false"}]  # jobs: media workers only
        worker_env += [{"name": "SLATE_MEDIA_SCRATCH_DIR", "value": scratch},
                       {"name": "SLATE_MEDIA_JOBS_ENABLED", "value": "true"}]
        api_volumes = [("scratch", scratch, "20Gi")]
        worker_volumes = [("scratch", scratch, "50Gi")]
        api_res = {"requests": {"cpu": "200m", "memory": "384Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}}
        worker_res = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "3Gi"}}
    name = f"slate-{svc}"
    return [
        deployment(name, "api", image=name, command=["python", "-m", module, "serve"], replicas=2, port=port,
                   env=api_env, resources=api_res, init=[migrate_init(svc)], extra_volumes=api_volumes,
                   grace=API_GRACE_SECONDS),
        service(name, port),
        pdb(name),
        deployment(f"{name}-worker", "worker", image=name, command=["python", "-m", module, "worker"], replicas=1,
                   port=None, env=worker_env, resources=worker_res, init=[migrate_init(svc)],
                   extra_volumes=worker_volumes, grace=WORKER_GRACE_SECONDS),
        pdb(f"{name}-worker"),
    ]


def gateway_documents() -> list[dict[str, Any]]:
    name = "slate-gateway"
    return [
        deployment(name, "api", image=name, command=["python", "-m", "slate_gateway", "serve"], replicas=2,
                   port=GATEWAY_PORT, env=[{"name": "SLATE_PORT", "value": str(GATEWAY_PORT)}],
                   resources={"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "2", "memory": "512Mi"}},
                   init=[], grace=API_GRACE_SECONDS),
        service(name, GATEWAY_PORT),
        pdb(name),
    ]


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # plain YAML, no &anchors
        return True


def render(documents: list[dict[str, Any]]) -> str:
    head = "# Generated by tools/gen_k8s_base.py: edit the script, not this file.\n"
    return head + "---\n".join(yaml.dump(d, Dumper=_Dumper, sort_keys=False, width=120) for d in documents)


def files() -> dict[Path, str]:
    out = {OUT / "gateway.yaml": render(gateway_documents())}
    for svc in SERVICES:
        out[OUT / f"{svc}.yaml"] = render(service_documents(svc))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for path, text in files().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date (run tools/gen_k8s_base.py):", *map(str, stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
