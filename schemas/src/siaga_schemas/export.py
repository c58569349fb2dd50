"""Export every event's JSON Schema (Draft 2020-12) and check contract compatibility.

``python -m siaga_schemas.export`` writes ``schemas/jsonschema/<type>.v<version>.json``. The tests regenerate
them and fail on drift, and compare each model with its committed schema to catch breaking changes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .codec import EventRegistry, registry
from .envelope import Envelope, EventData

__all__ = ["breaking_changes", "event_schema", "export_all", "schema_filename"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def schema_filename(model: type[EventData]) -> str:
    return f"{model.event_type}.v{model.schema_version}.json"


def event_schema(model: type[EventData]) -> dict[str, Any]:
    """The JSON Schema of the whole CloudEvent (envelope + this payload) as consumers validate it."""
    schema = Envelope[model].model_json_schema(mode="validation")  # type: ignore[valid-type]
    schema["properties"]["type"]["const"] = model.event_type
    schema["properties"]["schemaversion"]["const"] = model.schema_version
    return {
        "$schema": DRAFT,
        "$id": model.schema_urn(),
        "title": model.event_type,
        "description": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else model.event_type,
        "x-siaga-topic": model.topic,
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def export_all(target: Path, events: EventRegistry = registry) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for model in events.models():
        path = target / schema_filename(model)
        path.write_text(json.dumps(event_schema(model), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        written.append(path)
    return written


# -- compatibility -----------------------------------------------------------------------------------


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(schema, schema["$defs"][ref.split("/")[-1]])
    return node


def _types(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    node = _resolve(schema, node)
    if "anyOf" in node:
        out: set[str] = set()
        for alt in node["anyOf"]:
            out |= _types(schema, alt)
        return out
    if "enum" in node:
        return {f"enum:{v}" for v in node["enum"]}
    if "const" in node:
        return {f"const:{node['const']}"}
    t = node.get("type")
    if isinstance(t, list):
        return set(t)
    return {t} if isinstance(t, str) else {"any"}


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Changes from ``old`` to ``new`` that break an existing producer or consumer.

    Breaking: a removed property, a property whose accepted types or enum values shrank, a new required
    property, a property that became required. Adding optional properties or enum values is compatible.
    """
    problems: list[str] = []

    def walk(o: dict[str, Any], n: dict[str, Any], path: str) -> None:
        o, n = _resolve(old, o), _resolve(new, n)
        old_types, new_types = _types(old, o), _types(new, n)
        if "any" not in new_types and not old_types <= new_types:
            problems.append(
                f"{path or '<root>'}: accepted values narrowed from {sorted(old_types)} to {sorted(new_types)}"
            )
        o_props, n_props = o.get("properties", {}), n.get("properties", {})
        for name in o_props:
            if name not in n_props:
                problems.append(f"{path}/{name}: removed")
        o_req, n_req = set(o.get("required", [])), set(n.get("required", []))
        for name in sorted(n_req - o_req):
            problems.append(
                f"{path}/{name}: {'new required field' if name not in o_props else 'became required'}"
            )
        for name in o_props.keys() & n_props.keys():
            walk(o_props[name], n_props[name], f"{path}/{name}")
        if "items" in o and "items" in n:
            walk(o["items"], n["items"], f"{path}/[]")
        for key in ("anyOf",):
            if key in o and key in n:
                o_objs = [_resolve(old, x) for x in o[key] if _resolve(old, x).get("properties")]
                n_objs = [_resolve(new, x) for x in n[key] if _resolve(new, x).get("properties")]
                for oo, nn in zip(o_objs, n_objs, strict=False):
                    walk(oo, nn, path)

    walk(old, new, "")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("schemas/jsonschema"))
    args = parser.parse_args()
    for path in export_all(args.out):
        print(path)


if __name__ == "__main__":
    main()
