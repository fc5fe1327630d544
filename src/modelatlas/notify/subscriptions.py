"""What a webhook subscribes to: friendly event types, each a set of event actions (the
names in :mod:`modelatlas.events`), and the namespace an event belongs to."""

from __future__ import annotations

from collections.abc import Iterable

from modelatlas.errors import InvalidInput
from modelatlas.events import Action

ALL = "*"

# friendly name -> the actions it covers. An action string not (yet) in events.py is
# matched by name all the same: the table names what a receiver may expect.
EVENT_TYPES: dict[str, frozenset[str]] = {
    "registered": frozenset({Action.VERSION_REGISTERED}),
    "stage_changed": frozenset({Action.STAGE_CHANGED}),
    "approval_requested": frozenset({Action.APPROVAL_REQUESTED}),
    "approval_given": frozenset({Action.APPROVAL_GIVEN}),
    "approval_rejected": frozenset({Action.APPROVAL_REJECTED}),
    "provenance_changed": frozenset({Action.RELATION_ADDED, Action.RELATION_REMOVED,
                                     Action.LINEAGE_CHANGE_APPLIED}),
    "needs_revalidation": frozenset({Action.REVALIDATION_NEEDED}),
    "deprecated": frozenset({Action.VERSION_DEPRECATED, Action.DEPRECATION_NOTICE}),
}
_BY_ACTION: dict[str, str] = {a: name for name, actions in EVENT_TYPES.items()
                              for a in actions}
# every action some event type covers: what the worker scans the log for
SUBSCRIBABLE: frozenset[str] = frozenset(_BY_ACTION)


def check_event_types(names: Iterable[str], *, path: str = "/event_types") -> list[str]:
    """Sorted, de-duplicated event type names; ``*`` alone means every type."""
    chosen = sorted(set(names))
    if not chosen:
        raise InvalidInput.at(path, "name at least one event type (or *)")
    for index, name in enumerate(chosen):
        if name != ALL and name not in EVENT_TYPES:
            raise InvalidInput.at(f"{path}/{index}",
                                  f"one of *, {', '.join(sorted(EVENT_TYPES))}")
    return [ALL] if ALL in chosen else chosen


def event_type_of(action: str) -> str | None:
    """The friendly type an action is delivered as (``None``: no webhook gets it)."""
    return _BY_ACTION.get(action)


def subscribed(event_types: Iterable[str], action: str) -> bool:
    kind = _BY_ACTION.get(action)
    if kind is None:
        return False
    chosen = set(event_types)
    return ALL in chosen or kind in chosen


def namespace_of(ref: str) -> str | None:
    """The namespace an event's ref names (``kind:namespace/name@v`` or
    ``namespace:name``); ``None`` for refs about no namespace (tokens, auth)."""
    kind, sep, rest = ref.partition(":")
    if not sep or not kind:
        return None
    if kind == "namespace":
        return rest or None
    namespace, slash, _ = rest.partition("/")
    return namespace if slash and namespace else None
