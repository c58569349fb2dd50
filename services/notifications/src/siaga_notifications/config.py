"""Loading the routing YAML, so that a bad file is reported as ``file, line N: field: problem``
(``siaga_schemas.yamlfile``)."""

from __future__ import annotations

from pathlib import Path

from siaga_schemas.yamlfile import YamlFileError, load_yaml_model

from .domain.routing import RoutingConfig

__all__ = ["RoutingConfigError", "load_routing", "parse_routing"]


class RoutingConfigError(YamlFileError):
    """A routing file that cannot be used; the message names the file and line."""


def parse_routing(text: str, source: str = "<routing>") -> RoutingConfig:
    return load_yaml_model(RoutingConfig, text, source, error=RoutingConfigError, what="route and receivers")


def load_routing(path: str | Path) -> RoutingConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutingConfigError(str(p), None, f"cannot read the routing file: {exc.strerror}") from None
    return parse_routing(text, str(p))
