"""Loading the routing YAML with line numbers, so a bad file is reported as ``file:line: field: problem``.

The YAML is composed into nodes with PyYAML's SafeLoader; while turning nodes into plain values the loader
records the line where every mapping key, list item and value starts. Pydantic's error locations are then
mapped back to the nearest recorded line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .domain.routing import RoutingConfig

__all__ = ["RoutingConfigError", "load_routing", "parse_routing"]

Path_ = tuple[str | int, ...]


class RoutingConfigError(ValueError):
    """A routing file that cannot be used; the message names the file and line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        super().__init__(f"{source}, line {line}: {message}" if line is not None else f"{source}: {message}")


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.lines: dict[Path_, int] = {}

    def build(self, node: Node, path: Path_) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            self.loader.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool):
                    raise RoutingConfigError(
                        self.source, key_node.start_mark.line + 1, "mapping keys must be text"
                    )
                if key in out:
                    raise RoutingConfigError(
                        self.source, key_node.start_mark.line + 1, f"duplicate key {key!r}"
                    )
                self.lines[(*path, str(key))] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*path, str(key)))
            return out
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self.loader.construct_object(node, deep=True)


def _line_for(lines: dict[Path_, int], loc: tuple[Any, ...]) -> int | None:
    path: Path_ = tuple(p if isinstance(p, int) else str(p) for p in loc)
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = path[:-1]


def _strip_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's synthetic parts (function-after validator names, tagged unions)."""
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))


def parse_routing(text: str, source: str = "<routing>") -> RoutingConfig:
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            raise RoutingConfigError(
                source, mark.line + 1 if mark else None, f"invalid YAML: {exc.problem or exc}"
            ) from None
        if node is None:
            raise RoutingConfigError(source, 1, "the file is empty")
        builder = _Builder(loader, source)
        try:
            data = builder.build(node, ())
        except yaml.constructor.ConstructorError as exc:
            mark = exc.problem_mark
            raise RoutingConfigError(source, mark.line + 1 if mark else None, str(exc.problem)) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise RoutingConfigError(source, 1, "the file must be a mapping with route and receivers")
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = _strip_loc(tuple(err["loc"]))
        msg = str(err["msg"])
        if not loc and msg.startswith("Value error, "):
            # A cross-reference error names its own dotted path: map it to a line too.
            detail = msg.removeprefix("Value error, ")
            dotted = detail.split(":", 1)[0]
            parts = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
            return _raise(source, builder.lines, parts, detail)
        field = ".".join(str(p) for p in loc) or "<root>"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        _raise(source, builder.lines, loc, f"{field}: {msg}{more}")
    raise AssertionError("unreachable")


def _raise(source: str, lines: dict[Path_, int], loc: tuple[Any, ...], message: str) -> RoutingConfig:
    raise RoutingConfigError(source, _line_for(lines, loc), message)


def load_routing(path: str | Path) -> RoutingConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutingConfigError(str(p), None, f"cannot read the routing file: {exc.strerror}") from None
    return parse_routing(text, str(p))
