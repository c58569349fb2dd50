"""Write each service's AsyncAPI 3.0 document, generated from its FastStream broker.

``python -m siaga_runtime.asyncapi_export --out schemas/asyncapi`` builds every service's app with default
settings (nothing connects: clients open only in the lifespan) and writes ``<service>.yaml``.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

import yaml

from .http import asyncapi_document

__all__ = ["SERVICES", "render_service", "service_document"]

SERVICES = ("meetings", "logistics", "notifications")


def service_document(service: str) -> dict[str, Any]:
    module = importlib.import_module(f"siaga_{service}.app")
    app = module.build_app()
    return asyncapi_document(app.state.runtime, app.title, app.description)


def render_service(service: str) -> str:
    return yaml.safe_dump(service_document(service), sort_keys=True, allow_unicode=True, width=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("schemas/asyncapi"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        path = args.out / f"{service}.yaml"
        path.write_text(render_service(service))
        print(path)


if __name__ == "__main__":
    main()
