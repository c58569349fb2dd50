"""YAML files a person writes (routing, scenarios), validated by a pydantic model and reported by line:
``routing.yaml, line 12: route.routes.0.group_wait: invalid duration``.

The text is composed into nodes with PyYAML's SafeLoader; while the nodes become plain values the loader
records the line where every mapping key, list item and value starts, and refuses duplicate keys and keys
that are not text. Pydantic's error locations are then mapped back to the nearest recorded line.
"""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["YamlFileError", "load_yaml_list", "load_yaml_model"]

M = TypeVar("M", bound=BaseModel)
_Path = tuple[str | int, ...]


class YamlFileError(ValueError):
    """A file that cannot be used; the message names the file and the line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        super().__init__(f"{source}, line {line}: {message}" if line is not None else f"{source}: {message}")


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, source: str, error: type[YamlFileError]) -> None:
        self.loader = loader
        self.source = source
        self.error = error
        self.lines: dict[_Path, int] = {}

    def build(self, node: Node, path: _Path) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            self.loader.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str | int | float | bool):
                    raise self.error(self.source, line, "mapping keys must be text")
                if key in out:
                    raise self.error(self.source, line, f"duplicate key {key!r}")
                self.lines[(*path, str(key))] = line
                out[key] = self.build(value_node, (*path, str(key)))
            return out
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self.loader.construct_object(node, deep=True)


def _line_for(lines: dict[_Path, int], loc: tuple[Any, ...]) -> int | None:
    path: _Path = tuple(p if isinstance(p, int) else str(p) for p in loc)
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = path[:-1]


def _strip_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's synthetic parts (function-after validator names, tagged unions)."""
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))


def _compose(
    text: str, source: str, error: type[YamlFileError], *, empty: Any = None
) -> tuple[Any, dict[_Path, int]]:
    """The file's value and the line of every path in it; ``empty`` is the value of a file holding no
    value (only comments), ``None``: such a file is refused."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            raise error(
                source, mark.line + 1 if mark else None, f"not valid YAML: {exc.problem or exc}"
            ) from None
        if node is None:
            if empty is None:
                raise error(source, 1, "the file is empty")
            return empty, {}
        builder = _Builder(loader, source, error)
        try:
            return builder.build(node, ()), builder.lines
        except yaml.constructor.ConstructorError as exc:
            mark = exc.problem_mark
            raise error(source, mark.line + 1 if mark else None, str(exc.problem)) from None
    finally:
        loader.dispose()


def load_yaml_model(
    model: type[M], text: str, source: str, *, error: type[YamlFileError] = YamlFileError, what: str = ""
) -> M:
    """``text`` parsed and validated as ``model``; ``error`` (a YamlFileError) names the line of the first
    problem. ``what`` says what the top level must hold, for a file that is not a mapping.

    A validator error whose message starts with a dotted path (``receivers.2.name: unknown``, from a
    cross-reference check on the whole file) is reported at that path's line."""
    data, lines = _compose(text, source, error)
    if not isinstance(data, dict):
        raise error(source, 1, f"the file must be a mapping{f' with {what}' if what else ''}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _located(exc, lines, source, error) from None


def load_yaml_list(
    model: type[M], text: str, source: str, *, error: type[YamlFileError] = YamlFileError, what: str = ""
) -> list[M]:
    """``text`` parsed as a list of ``model`` (an empty file: no items); ``error`` names the line of the
    first problem, as ``load_yaml_model`` does (the location starts with the item's index)."""
    data, lines = _compose(text, source, error, empty=[])
    if not isinstance(data, list):
        raise error(source, 1, f"the file must be a list{f' of {what}' if what else ''}")
    try:
        return TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise _located(exc, lines, source, error) from None


def _located(
    exc: ValidationError, lines: dict[_Path, int], source: str, error: type[YamlFileError]
) -> YamlFileError:
    """The first error of ``exc`` as ``error``, at the line of its location."""
    err = exc.errors(include_url=False)[0]
    loc = _strip_loc(tuple(err["loc"]))
    msg = str(err["msg"])
    if not loc and msg.startswith("Value error, "):
        detail = msg.removeprefix("Value error, ")
        dotted = detail.split(":", 1)[0]
        parts = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
        return error(source, _line_for(lines, parts), detail)
    field = ".".join(str(p) for p in loc) or "<root>"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return error(source, _line_for(lines, loc), f"{field}: {msg}{more}")
