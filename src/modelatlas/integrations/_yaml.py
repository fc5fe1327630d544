"""YAML as an importer reads it: the safe loader only, no aliases, errors naming the line.

``yaml.SafeLoader`` builds plain data only (a ``!!python/object`` tag is a constructor
error, never an object). Aliases are refused as well: an alias is a reference, so a small
document with nested aliases (the "billion laughs") expands to an enormous tree for anyone
who walks it afterwards, and neither cards nor manifests need them.
"""

from __future__ import annotations

from typing import Any

import yaml

from modelatlas.errors import FieldError, InvalidInput


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not accepted", event.start_mark)
        return super().compose_node(parent, index)


def _line_of(exc: yaml.YAMLError, first_line: int) -> int | None:
    # the context (where the unfinished construct began) before the problem (where the
    # parser gave up, often the end of the text)
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    return None if mark is None else first_line + mark.line


def _refused(exc: yaml.YAMLError, path: str, what: str, first_line: int) -> InvalidInput:
    line = _line_of(exc, first_line)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {line}: " if line is not None else ""
    return InvalidInput(f"{what} is not valid YAML: {where}{problem}",
                        errors=[FieldError(path, f"{where}{problem}")])


def load_one(text: str, *, path: str, what: str, first_line: int = 1) -> Any:
    """One YAML document; ``first_line`` is where ``text`` starts in the file, so errors
    name the file's line."""
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader: plain data only
    except yaml.YAMLError as exc:
        raise _refused(exc, path, what, first_line) from None


def load_all(text: str, *, path: str, what: str) -> list[Any]:
    """Every document of a multi-document stream (``---`` separated), empty ones dropped."""
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        raise _refused(exc, path, what, 1) from None
