"""Turn CustomResourceDefinitions into the JSON schemas the deployment tests check
custom resources against (``check-jsonschema --schemafile``).

    python tools/vendor_crd_schemas.py --source "kedacore/keda v2.20.1" keda.sh_scaledobjects.yaml ...

Each served version's ``openAPIV3Schema`` is written to
``deploy/k8s/schemas/<kind>-<group>-<version>.json``, made strict the way
``kubernetes-validate --strict`` is for built-in kinds: an object that lists its
properties accepts no others (unless it says ``x-kubernetes-preserve-unknown-fields``),
so a misspelt or invented field fails the test instead of being pruned by the API server.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

OUT = Path(__file__).resolve().parents[1] / "deploy" / "k8s" / "schemas"


def strict(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: strict(v) for k, v in node.items()}
        if (
            out.get("type") == "object"
            and "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strict(v) for v in node]
    return node


def schema_for(crd: dict[str, Any], version: dict[str, Any], source: str) -> dict[str, Any]:
    group = crd["spec"]["group"]
    kind = crd["spec"]["names"]["kind"]
    schema = strict(version["schema"]["openAPIV3Schema"])
    schema["properties"]["apiVersion"] = {"type": "string", "enum": [f"{group}/{version['name']}"]}
    schema["properties"]["kind"] = {"type": "string", "enum": [kind]}
    schema["properties"]["metadata"] = {"type": "object"}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$comment": f"{kind} {group}/{version['name']}: openAPIV3Schema of the CRD from {source}, "
        "made strict by tools/vendor_crd_schemas.py",
        **schema,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="where the CRDs come from (repository and tag)")
    parser.add_argument("crds", nargs="+", type=Path)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for path in args.crds:
        for crd in YAML(typ="safe").load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            for version in crd["spec"]["versions"]:
                if not version.get("served"):
                    continue
                schema = schema_for(crd, version, args.source)
                name = f"{crd['spec']['names']['kind'].lower()}-{crd['spec']['group']}-{version['name']}.json"
                (OUT / name).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
                print(OUT / name)


if __name__ == "__main__":
    main()
