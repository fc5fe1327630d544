"""YAML read as nodes, so every value keeps the line it was written on.

``yaml.compose`` (safe loader) builds the node graph without constructing Python objects;
the readers walk it with these helpers, which check the shape they expect and report a
mismatch at the node's line. Scalars stay text: ``python: 3.10`` is ``"3.10"``, not the
float 3.1.
"""

from __future__ import annotations

import yaml

from modelatlas.deps.sources._base import fail

_NULL_TAG = "tag:yaml.org,2002:null"


def compose(text: str, name: str) -> yaml.Node | None:
    """The root node of ``text`` (None for an empty document)."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise fail(where, f"invalid YAML: {exc.problem or exc.context or 'syntax error'}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        line = text[: exc.position].count("\n") + 1
        raise fail(f"{name}:{line}", f"invalid YAML: {exc.reason} #x{exc.character!r}") from None
    except yaml.YAMLError as exc:
        raise fail(name, f"invalid YAML: {exc}") from None


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def where(name: str, node: yaml.Node) -> str:
    return f"{name}:{line_of(node)}"


def mapping(node: yaml.Node | None, name: str, what: str) -> dict[str, yaml.Node]:
    """The entries of a mapping node by key text (the last of repeated keys wins, as
    PyYAML's loader does). ``None`` (an empty document) is an empty mapping."""
    if node is None or is_null(node):
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise fail(where(name, node), f"{what} must be a mapping")
    entries: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise fail(where(name, key), f"keys of {what} must be text")
        entries[str(key.value)] = value
    return entries


def sequence(node: yaml.Node, name: str, what: str) -> list[yaml.Node]:
    if is_null(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise fail(where(name, node), f"{what} must be a list")
    return list(node.value)


def scalar(node: yaml.Node, name: str, what: str) -> str | None:
    """The text of a scalar node, None for null."""
    if is_null(node):
        return None
    if not isinstance(node, yaml.ScalarNode):
        raise fail(where(name, node), f"{what} must be a single value")
    return str(node.value)


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG
