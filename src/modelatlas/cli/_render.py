"""Rich renderings of assets, relations and events for a terminal."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from modelatlas.registry.types import Asset, Event, Relation


def console() -> Console:
    """A console for this command: made per call so it sizes itself to the terminal (or
    ``COLUMNS``) the command runs in, and writes to the current ``sys.stdout``."""
    return Console(highlight=False)


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def asset_detail(asset: Asset, relations: list[Relation], more: bool) -> None:
    """One asset: its fields, its metadata, and its edges."""
    out = console()
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column(overflow="fold")
    head.add_row("ref", asset.ref)
    head.add_row("state", asset.state)
    if asset.description:
        head.add_row("description", asset.description)
    for label, values in (("owners", asset.owners), ("tags", asset.tags)):
        if values:
            head.add_row(label, ", ".join(values))
    for algorithm, digest in sorted(asset.digests.items()):
        head.add_row(algorithm, digest)
    head.add_row("revision", str(asset.revision))
    head.add_row("created", f"{asset.created_at} by {asset.created_by}")
    head.add_row("updated", f"{asset.updated_at} by {asset.updated_by}")
    out.print(head)
    fields = [("metadata", asset.metadata), ("custom", asset.custom)]
    for title, data in fields:
        if data:
            table = Table(title=title, title_justify="left", show_header=False)
            table.add_column(style="cyan", no_wrap=True)
            table.add_column(overflow="fold")
            for key, value in data.items():
                table.add_row(key, _value(value))
            out.print(table)
    if relations:
        out.print(relation_table(relations, focus=asset.ref))
        if more:
            out.print(f"[dim]… showing the first {len(relations)} relations[/dim]")


def relation_table(relations: list[Relation], *, focus: str | None = None) -> Table:
    table = Table(title="relations", title_justify="left")
    table.add_column("source", overflow="fold")
    table.add_column("relation", style="magenta", no_wrap=True)
    table.add_column("target", overflow="fold")
    for rel in relations:
        source = "(this)" if rel.source == focus else rel.source
        target = "(this)" if rel.target == focus else rel.target
        table.add_row(source, rel.relation, target)
    return table


def asset_table(assets: list[Asset], width: int = 80) -> Table:
    """Refs are copied into the next command whole, so they are never folded or cut; the
    description gets what is left of the line (and is left out on a narrow terminal)."""
    table = Table()
    widest = max((len(a.ref) for a in assets), default=3)
    states = max((len(a.state) for a in assets), default=5)
    # three columns cost their widths, 4 rules and 2 spaces of padding each
    left = width - (widest + states + 10 + 4 + 6) - 3
    table.add_column("ref", no_wrap=True, min_width=widest)
    table.add_column("state", no_wrap=True, min_width=states)
    table.add_column("updated", no_wrap=True, min_width=10)
    if left >= 15:
        table.add_column("description", no_wrap=True)
    for asset in assets:
        row = [asset.ref, asset.state, asset.updated_at[:10]]
        if left >= 15:
            row.append(_short(asset.description, left))
        table.add_row(*row)
    return table


def _event_summary(event: Event) -> str:
    payload = event.payload
    if "relation" in payload:
        # an edge event is recorded on its source, so the row reads from this asset
        verb = "unlinked" if event.action.endswith("removed") else ""
        return f"{verb} -{payload['relation']}-> {payload.get('target')}".strip()
    if "changed" in payload:
        return "changed " + ", ".join(payload["changed"])
    return f"revision {payload.get('revision', '?')}, state {payload.get('state', '?')}"


def event_table(events: list[Event]) -> Table:
    table = Table()
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("time", no_wrap=True)
    table.add_column("actor", no_wrap=True)
    table.add_column("action", style="magenta", no_wrap=True)
    table.add_column("change", overflow="fold")
    for event in events:
        table.add_row(str(event.seq), event.time[:16].replace("T", " "), event.actor, event.action,
                      _event_summary(event))
    return table
