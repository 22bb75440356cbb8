"""deploy/k8s, checked offline: every overlay renders with ``kubectl kustomize``, every
built-in object validates with kubernetes-validate in strict mode, every custom resource
against the schema of its CRD vendored in deploy/k8s/schemas, and the manifests run the
commands and read the settings the code really has."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.slow  # see pytest.ini

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
SCHEMAS = K8S / "schemas"
OVERLAYS = ("small", "studio", "keda", "example-dependencies", "gateway-api")
SERVICES = ("auth", "production", "media", "import-export", "planning")
#: Kubernetes versions the manifests must be valid for: the oldest we support, the newest known.
K8S_VERSIONS = ("1.30.0", "1.37.0")
#: (apiVersion, kind) -> vendored schema (tools/vendor_crd_schemas.py).
CUSTOM = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring.coreos.com-v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda.sh-v1alpha1.json",
    ("postgresql.cnpg.io/v1", "Cluster"): "cluster-postgresql.cnpg.io-v1.json",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "httproute-gateway.networking.k8s.io-v1.json",
    ("gateway.networking.k8s.io/v1", "Gateway"): "gateway-gateway.networking.k8s.io-v1.json",
}
#: Settings the manifests set that the code does not read yet (another change brings them).
PENDING_SETTINGS = {"SLATE_TRUSTED_PROXIES"}

sys.path.insert(0, str(ROOT / "tools"))  # the generators: gen_k8s_base, gen_config_reference


def _tool(name: str) -> str:
    for candidate in (Path(sys.executable).parent / name, Path(sys.prefix) / "bin" / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed")
    return found


@cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    path = K8S / "base" if overlay == "base" else K8S / "overlays" / overlay
    res = subprocess.run([_tool("kubectl"), "kustomize", str(path)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    docs = tuple(d for d in yaml.safe_load_all(res.stdout) if d)
    assert docs, overlay
    return docs


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


# --- rendering and validation ------------------------------------------------------


@pytest.mark.parametrize("overlay", ("base", *OVERLAYS))
def test_overlay_renders_and_builtin_objects_validate_strictly(overlay: str) -> None:
    from kubernetes_validate.utils import validate

    builtin = [d for d in render(overlay) if (d["apiVersion"], d["kind"]) not in CUSTOM]
    assert builtin
    for version in K8S_VERSIONS:
        for doc in builtin:
            validate(doc, version, strict=True)  # raises on an unknown kind or field


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_validate_against_their_crd_schemas(overlay: str, tmp_path: Path) -> None:
    custom = [d for d in render(overlay) if (d["apiVersion"], d["kind"]) in CUSTOM]
    by_schema: dict[str, list[Path]] = {}
    for i, doc in enumerate(custom):
        path = tmp_path / f"{doc['kind']}-{i}.json"
        path.write_text(json.dumps(doc))
        by_schema.setdefault(CUSTOM[(doc["apiVersion"], doc["kind"])], []).append(path)
    for schema, files in by_schema.items():
        res = subprocess.run(
            [_tool("check-jsonschema"), "--schemafile", str(SCHEMAS / schema), *map(str, files)],
            capture_output=True, text=True, check=False,
        )
        assert res.returncode == 0, res.stdout + res.stderr


def test_vendored_schemas_are_strict_and_catch_an_invented_field(tmp_path: Path) -> None:
    scaled = of_kind(render("keda"), "ScaledObject")["slate-media-worker"]
    bad = json.loads(json.dumps(scaled))
    bad["spec"]["triggers"][0]["lagThreshhold"] = "2"  # misspelt, outside metadata
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    res = subprocess.run(
        [_tool("check-jsonschema"), "--schemafile", str(SCHEMAS / CUSTOM[("keda.sh/v1alpha1", "ScaledObject")]),
         str(path)], capture_output=True, text=True, check=False,
    )
    assert res.returncode == 1 and "lagThreshhold" in res.stdout + res.stderr


def test_custom_resources_of_each_overlay() -> None:
    kinds = {o: {d["kind"] for d in render(o) if (d["apiVersion"], d["kind"]) in CUSTOM} for o in OVERLAYS}
    assert kinds == {
        "small": set(),
        "studio": {"ServiceMonitor"},
        "keda": {"ServiceMonitor", "ScaledObject"},
        "example-dependencies": {"Cluster"},
        "gateway-api": {"ServiceMonitor", "Gateway", "HTTPRoute"},
    }


def test_base_workloads_are_what_the_generator_writes() -> None:
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_k8s_base.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


# --- what the pods run ---------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_an_api_and_a_worker_deployment_and_a_pdb(overlay: str) -> None:
    docs = render(overlay)
    deployments = of_kind(docs, "Deployment")
    pdbs = of_kind(docs, "PodDisruptionBudget")
    services = of_kind(docs, "Service")
    for svc in SERVICES:
        api, worker = deployments[f"slate-{svc}"], deployments[f"slate-{svc}-worker"]
        assert pod_spec(api)["containers"][0]["command"] == ["python", "-m", f"slate_{svc.replace('-', '_')}", "serve"]
        assert pod_spec(worker)["containers"][0]["command"][-1] == "worker"
        assert services[f"slate-{svc}"]["spec"]["selector"] == {"app.kubernetes.io/name": f"slate-{svc}"}
        for name in (f"slate-{svc}", f"slate-{svc}-worker"):
            assert pdbs[name]["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
    assert pod_spec(deployments["slate-gateway"])["containers"][0]["command"] == ["python", "-m", "slate_gateway",
                                                                                  "serve"]
    assert "slate-gateway" in pdbs


def test_commands_are_real_entry_points() -> None:
    from slate_common.cli import build_parser

    for name, dep in of_kind(render("studio"), "Deployment").items():
        spec = pod_spec(dep)
        command = spec["containers"][0]["command"]
        assert command[:2] == ["python", "-m"] and importlib.util.find_spec(command[2]) is not None, name
        assert command[3] in ("serve", "worker"), name
        for init in spec.get("initContainers", []):
            assert init["command"][0] == "slate"
            args = build_parser().parse_args(init["command"][1:])
            service = name.removesuffix("-worker").removeprefix("slate-")
            assert (args.command, args.services) == ("migrate", [service]), name


def test_migrations_run_before_every_pod_of_a_service_serves() -> None:
    deployments = of_kind(render("studio"), "Deployment")
    for svc in SERVICES:
        for name in (f"slate-{svc}", f"slate-{svc}-worker"):
            inits = pod_spec(deployments[name]).get("initContainers", [])
            assert [i["command"] for i in inits] == [["slate", "migrate", svc]], name
            # the same image as the container, so the migrations are the code's own
            assert inits[0]["image"] == pod_spec(deployments[name])["containers"][0]["image"]
    assert "initContainers" not in pod_spec(deployments["slate-gateway"])  # the gateway has no database


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_locked_down(overlay: str) -> None:
    docs = render(overlay)
    workloads = [*of_kind(docs, "Deployment").values(), *of_kind(docs, "Job").values()]
    assert workloads
    for dep in workloads:
        spec = pod_spec(dep)
        assert spec["securityContext"]["runAsNonRoot"] is True, dep["metadata"]["name"]
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        mounted = {v["name"] for v in spec["volumes"] if "emptyDir" in v or "persistentVolumeClaim" in v}
        for c in spec["containers"] + spec.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, (dep["metadata"]["name"], c["name"])
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert {"cpu", "memory"} <= set(c["resources"]["requests"])
            assert "memory" in c["resources"]["limits"]
            writable = {m["name"] for m in c.get("volumeMounts", []) if not m.get("readOnly")}
            assert "tmp" in writable and writable <= mounted  # scratch space is an emptyDir or a volume
            image = c["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image


def test_media_scratch_is_an_emptydir_the_settings_point_at() -> None:
    deployments = of_kind(render("studio"), "Deployment")
    for name in ("slate-media", "slate-media-worker"):
        spec = pod_spec(deployments[name])
        container = spec["containers"][0]
        scratch = env_of(container)["SLATE_MEDIA_SCRATCH_DIR"]
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == scratch)
        volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
        assert volume["emptyDir"]["sizeLimit"].endswith("Gi")
    assert env_of(pod_spec(deployments["slate-media"])["containers"][0])["SLATE_MEDIA_JOBS_ENABLED"] == "false"
    assert env_of(pod_spec(deployments["slate-media-worker"])["containers"][0])["SLATE_MEDIA_JOBS_ENABLED"] == "true"


def test_probes_and_a_graceful_stop_longer_than_the_drain() -> None:
    from gen_k8s_base import DRAIN_SECONDS

    deployments = of_kind(render("studio"), "Deployment")
    for name in ("slate-gateway", *(f"slate-{s}" for s in SERVICES)):
        spec = pod_spec(deployments[name])
        c = spec["containers"][0]
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        pause = int(c["lifecycle"]["preStop"]["exec"]["command"][1])
        assert pause > 0 and spec["terminationGracePeriodSeconds"] > pause + DRAIN_SECONDS, name


def test_drain_matches_the_server_graceful_shutdown() -> None:
    import inspect

    from gen_k8s_base import DRAIN_SECONDS

    from slate_common import service_cli

    assert f"timeout_graceful_shutdown={DRAIN_SECONDS}" in inspect.getsource(service_cli.run_service_cli)


# --- settings -----------------------------------------------------------------------


def _known_settings() -> set[str]:
    from gen_config_reference import all_env_names

    return all_env_names()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifests_set_only_real_settings(overlay: str) -> None:
    known = _known_settings() | PENDING_SETTINGS
    docs = render(overlay)
    names: set[str] = set()
    for cm in of_kind(docs, "ConfigMap").values():
        names |= set(cm["data"])
    for dep in of_kind(docs, "Deployment").values():
        if dep["metadata"]["labels"].get("app.kubernetes.io/part-of") != "slate":
            continue
        for c in pod_spec(dep)["containers"] + pod_spec(dep).get("initContainers", []):
            names |= set(env_of(c))
    assert names, overlay
    assert names - known == set()


def test_secret_keys_are_real_settings() -> None:
    keys = {line.split("=", 1)[0].lstrip("# ") for line in (K8S / "base" / "secrets.example.env").read_text().splitlines()
            if "=" in line and line.lstrip("# ").startswith("SLATE_")}
    assert {"SLATE_SECRET_KEY", "SLATE_POSTGRES_URL", "SLATE_S3_ACCESS_KEY", "SLATE_S3_SECRET_KEY"} <= keys
    assert keys <= _known_settings()
    test_secret = of_kind(render("small"), "Secret")["slate-secrets"]
    assert set(test_secret["data"]) <= _known_settings()
    config = of_kind(render("studio"), "ConfigMap")
    (data,) = (cm["data"] for cm in config.values())
    assert not {"SLATE_SECRET_KEY", "SLATE_POSTGRES_URL", "SLATE_S3_SECRET_KEY"} & set(data)  # secrets stay secret


def test_upstream_urls_point_at_the_services() -> None:
    (data,) = (cm["data"] for cm in of_kind(render("studio"), "ConfigMap").values())
    services = of_kind(render("studio"), "Service")
    for svc in SERVICES:
        key = "SLATE_" + svc.upper().replace("-", "_") + "_URL"
        port = services[f"slate-{svc}"]["spec"]["ports"][0]["port"]
        assert data[key] == f"http://slate-{svc}:{port}"


# --- scaling ---------------------------------------------------------------------------


def test_studio_autoscales_gateway_production_and_media_workers() -> None:
    docs = render("studio")
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {
        "slate-gateway", "slate-production", "slate-media-worker"}
    deployments = of_kind(docs, "Deployment")
    for h in hpas.values():
        assert "replicas" not in deployments[h["spec"]["scaleTargetRef"]["name"]]["spec"]  # the HPA's to set
        assert h["spec"]["minReplicas"] >= 2


def test_keda_scales_media_workers_on_their_jetstream_consumer() -> None:
    from slate_media.adapters.jobs import WORKERS_CONSUMER
    from slate_media.config import MediaSettings

    docs = render("keda")
    assert "slate-media-worker" not in {h["spec"]["scaleTargetRef"]["name"]
                                        for h in of_kind(docs, "HorizontalPodAutoscaler").values()}
    scaled = of_kind(docs, "ScaledObject")["slate-media-worker"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == "slate-media-worker"
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "nats-jetstream"
    assert trigger["metadata"]["stream"] == MediaSettings().jobs_stream
    assert trigger["metadata"]["consumer"] == WORKERS_CONSUMER


def test_jetstream_streams_and_kv_get_three_replicas_with_the_code_settings() -> None:
    from slate_common.config import SharedSettings
    from slate_common.revocation import BUCKET

    from slate_media.config import MediaSettings

    job = of_kind(render("example-dependencies"), "Job")["slate-jetstream-replicas"]
    container = pod_spec(job)["containers"][0]
    script = container["command"][-1]
    assert env_of(container)["REPLICAS"] == "3"
    assert f"stream {SharedSettings().events_stream} --subjects 'slate.events.>'" in script
    assert f"stream {MediaSettings().jobs_stream} --subjects '{MediaSettings().jobs_subject}.>'" in script
    assert "--retention work" in script
    assert f"nats kv add {BUCKET}" in script and f"KV_{BUCKET} --replicas" in script


def test_nats_chart_values_exist_in_the_chart() -> None:
    chart = yaml.safe_load((SCHEMAS / "nats-chart-2.14.2-values.yaml").read_text())
    ours = yaml.safe_load((K8S / "overlays" / "example-dependencies" / "nats-values.yaml").read_text())

    def walk(mine: Any, theirs: Any, path: str) -> None:
        if isinstance(mine, dict) and not (isinstance(theirs, dict) and theirs == {}):
            assert isinstance(theirs, dict), path
            for key, value in mine.items():
                assert key in theirs, f"{path}.{key} is not a value of the chart"
                walk(value, theirs[key], f"{path}.{key}")

    walk(ours, chart, "")
    assert ours["config"]["cluster"]["replicas"] == 3 and ours["config"]["jetstream"]["enabled"] is True


# --- the edge ----------------------------------------------------------------------------


def test_ingress_lets_multi_gigabyte_uploads_through_to_the_gateway_only() -> None:
    from slate_media.config import MediaSettings

    ingress = of_kind(render("studio"), "Ingress")["slate"]
    notes = ingress["metadata"]["annotations"]
    body = notes["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert body == "0" or int(body.rstrip("gG")) * 1024**3 >= MediaSettings().max_upload_bytes
    assert notes["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(notes["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"slate-gateway"}


def test_network_policies() -> None:
    policies = of_kind(render("studio"), "NetworkPolicy")
    deny = policies["slate-default-deny"]
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny["spec"]
    edge = policies["slate-gateway-from-ingress"]
    assert edge["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "slate-gateway"}}
    from_gateway = policies["slate-api-from-gateway"]["spec"]["ingress"][0]["from"]
    assert from_gateway == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "slate-gateway"}}}]
    egress = policies["slate-egress-common"]["spec"]["egress"]
    ports = {p["port"] for rule in egress for p in rule["ports"]}
    assert {53, 8101, 4222, 5432, 443} <= ports  # DNS, auth's keys, NATS, PostgreSQL, S3
    auth_out = {p["port"] for r in policies["slate-auth-mail-and-identity-providers"]["spec"]["egress"]
                for p in r["ports"]}
    assert {25, 465, 587, 443} == auth_out
    assert "slate-metrics-from-prometheus" in policies
    # the example overlay narrows dependencies to their servers
    narrowed = of_kind(render("example-dependencies"), "NetworkPolicy")["slate-egress-common"]["spec"]["egress"]
    selectors = [r.get("to", [{}])[0] for r in narrowed]
    assert {"podSelector": {"matchLabels": {"cnpg.io/cluster": "slate-db"}}} in selectors
    assert all("to" in r for r in narrowed)  # no port left open to anywhere


def test_gateway_api_overlay_replaces_the_ingress() -> None:
    docs = render("gateway-api")
    assert of_kind(docs, "Ingress") == {}
    routes = of_kind(docs, "HTTPRoute")
    assert routes["slate-default"]["spec"]["rules"][0]["backendRefs"] == [{"name": "slate-gateway", "port": 8080}]
    services = of_kind(docs, "Service")
    for route in routes.values():
        for rule in route["spec"]["rules"]:
            for ref in rule["backendRefs"]:
                assert services[ref["name"]]["spec"]["ports"][0]["port"] == ref["port"]
