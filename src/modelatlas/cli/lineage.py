"""``modelatlas lineage``: upstream and downstream of an asset, its direct neighbours, the
paths between two assets, the blast radius of a change, and withdrawing a dataset
version."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from modelatlas.cli import _render
from modelatlas.cli._app import app
from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    handles_errors,
    open_client,
    print_json,
)
from modelatlas.registry import (
    BlastRadius,
    LineageGraph,
    LineageNeighbours,
    LineageNode,
    LineagePaths,
    Withdrawal,
)

lineage_app = typer.Typer(
    name="lineage", no_args_is_help=True,
    help="Lineage: what shaped an asset, what depends on it, how two assets connect.",
)
app.add_typer(lineage_app)

RefArgument = Annotated[str, typer.Argument(help="an asset ref, e.g. dataset:fraud/tx@3")]
DepthOption = Annotated[int, typer.Option("--depth", help="Most hops (1-20).")]


def _label(node: LineageNode, relation: str | None) -> Text:
    """Plain text (a ref is never read as Rich markup)."""
    via = f" [{relation}]" if relation else ""
    return Text(f"{node.ref}{via} ({node.state})")


def _parents(graph: LineageGraph) -> dict[str, tuple[str, str]]:
    """For each node, one neighbour one hop nearer the root on its side, and the relation
    between them: the tree drawn is a shortest-path tree of the graph returned."""
    by_ref = {n.ref: n for n in graph.nodes}
    parents: dict[str, tuple[str, str]] = {}
    for edge in graph.edges:
        for child, parent in ((edge.source, edge.target), (edge.target, edge.source)):
            c, p = by_ref[child], by_ref[parent]
            if (c.depth == p.depth + 1 and p.direction in ("root", c.direction)
                    and child not in parents):
                parents[child] = (parent, edge.relation)
    return parents


def _tree(graph: LineageGraph) -> Tree:
    by_ref = {n.ref: n for n in graph.nodes}
    parents = _parents(graph)
    tree = Tree(_label(by_ref[graph.root], None))
    branches: dict[str, Tree] = {graph.root: tree}
    sides = {"upstream": "upstream (what shaped it)",
             "downstream": "downstream (what depends on it)"}
    side_nodes = {side: tree.add(title) for side, title in sides.items()
                  if any(n.direction == side for n in graph.nodes)}
    for node in graph.nodes[1:]:  # nearest first: a parent is drawn before its children
        parent, relation = parents.get(node.ref, (graph.root, f"depth {node.depth}"))
        # a node whose parent was filtered out (--kind) hangs under its side, with its depth
        at = branches[parent] if parent != graph.root else side_nodes[node.direction]
        branches[node.ref] = at.add(_label(node, relation))
    return tree


@lineage_app.command("show")
@handles_errors
def show(
    ref: RefArgument,
    upstream: bool = typer.Option(False, "--upstream", help="What shaped REF."),
    downstream: bool = typer.Option(False, "--downstream", help="What depends on REF "
                                                                "(the default)."),
    both: bool = typer.Option(False, "--both", help="Upstream and downstream."),
    depth: DepthOption = 3,
    relation: list[str] = typer.Option([], "--relation", help="Follow only this relation "
                                                              "(repeatable)."),
    kind: list[str] = typer.Option([], "--kind", help="Show only this kind (repeatable)."),
    as_of: str | None = typer.Option(None, "--as-of", show_default=False,
                                     help="ISO-8601 time: the graph as it was then."),
    limit: int = typer.Option(1000, "--limit", help="Most assets shown."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Upstream and/or downstream of REF as a tree (nearest first)."""
    if sum((upstream, downstream, both)) > 1:
        raise typer.BadParameter("give one of --upstream, --downstream, --both")
    direction = "upstream" if upstream else "both" if both else "downstream"
    with open_client(home, url) as client:
        graph = client.lineage.graph(ref, direction=direction, depth=depth,
                                     relations=relation, kinds=kind, as_of=as_of, limit=limit)
    if json_out:
        print_json(graph)
        return
    out = _render.console()
    out.print(_tree(graph))
    if graph.truncated:
        out.print(f"(cut at --limit {limit}: more assets are within --depth {depth})",
                  markup=False)


def _print_paths(found: LineagePaths) -> None:
    out = _render.console()
    if not found.paths:
        out.print(f"no path between {found.source} and {found.target}", markup=False)
        return
    for i, path in enumerate(found.paths, 1):
        steps = [path.refs[0]]
        for here, edge in zip(path.refs[1:], path.edges, strict=True):
            arrow = f"-{edge.relation}->" if edge.target == here else f"<-{edge.relation}-"
            steps += [arrow, here]
        out.print(f"{i}. " + " ".join(steps), markup=False, soft_wrap=True)
    if found.truncated:
        out.print("(more paths: raise --limit)", markup=False)


@lineage_app.command("paths")
@handles_errors
def paths(
    source: Annotated[str, typer.Argument(help="where the paths start")],
    target: Annotated[str, typer.Argument(help="where they end")],
    depth: DepthOption = 6,
    limit: int = typer.Option(20, "--limit", help="Most paths (1-100)."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """The paths (shortest first) along which SOURCE influenced TARGET, or TARGET
    influenced SOURCE; each step shows its relation as stored."""
    with open_client(home, url) as client:
        found = client.lineage.paths(source, target, depth=depth, limit=limit)
    if json_out:
        print_json(found)
    else:
        _print_paths(found)


def _print_assets(out: Console, title: str, columns: tuple[str, ...],
                  rows: list[tuple[str, ...]]) -> None:
    """A table of assets (the ref column may wrap, the short ones do not); none: nothing."""
    if not rows:
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=column != "ref")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _print_blast(blast: BlastRadius) -> None:
    out = _render.console()
    total = sum(t.count for t in blast.totals)
    out.print(f"{total} assets within {blast.depth} hops downstream of {blast.root}: "
              + ", ".join(f"{t.count} {t.kind}" for t in blast.totals), markup=False)
    _print_assets(out, "affected", ("ref", "kind", "state", "depth"),
                  [(n.ref, n.kind, n.state, str(n.depth)) for n in blast.items])
    if blast.next_cursor:
        out.print(f"(more: --cursor {blast.next_cursor})", markup=False)


@lineage_app.command("blast-radius")
@handles_errors
def blast_radius(
    ref: RefArgument,
    depth: DepthOption = 10,
    cursor: str | None = typer.Option(None, "--cursor", show_default=False),
    limit: int = typer.Option(100, "--limit", help="Most affected assets listed."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Everything downstream of REF (a dataset version, a feature pipeline...): counts per
    kind and the model versions, evaluations and deployments a change would reach."""
    with open_client(home, url) as client:
        blast = client.lineage.blast_radius(ref, depth=depth, cursor=cursor, limit=limit)
    if json_out:
        print_json(blast)
    else:
        _print_blast(blast)


def _print_neighbours(found: LineageNeighbours) -> None:
    out = _render.console()
    total = sum(t.count for t in found.totals)
    of_kind = f" ({found.kind} shown)" if found.kind else ""
    out.print(f"{total} assets directly {found.direction} of {found.root}{of_kind}: "
              + (", ".join(f"{t.count} {t.kind}" for t in found.totals) or "none"),
              markup=False)
    via: dict[str, list[str]] = {}
    for edge in found.edges:  # each edge joins the root and one neighbour on the page
        other = edge.target if edge.source == found.root else edge.source
        via.setdefault(other, []).append(edge.relation)
    _print_assets(out, found.direction, ("ref", "kind", "state", "relation"),
                  [(n.ref, n.kind, n.state, ", ".join(via.get(n.ref, [])))
                   for n in found.items])
    if found.next_cursor:
        out.print(f"(more: --cursor {found.next_cursor})", markup=False)


@lineage_app.command("neighbours")
@handles_errors
def neighbours(
    ref: RefArgument,
    upstream: bool = typer.Option(False, "--upstream",
                                  help="What REF was made from (default: what uses it)."),
    kind: str | None = typer.Option(None, "--kind", help="Only neighbours of this kind."),
    cursor: str | None = typer.Option(None, "--cursor", show_default=False),
    limit: int = typer.Option(25, "--limit", help="Most neighbours listed."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """REF's direct neighbours on one side: how many of each kind, and a page of them,
    oldest first (an asset with thousands of dependents is read a page at a time)."""
    direction = "upstream" if upstream else "downstream"
    with open_client(home, url) as client:
        found = client.lineage.neighbours(ref, direction=direction, kind=kind, cursor=cursor,
                                          limit=limit)
    if json_out:
        print_json(found)
    else:
        _print_neighbours(found)


def _print_withdrawal(found: Withdrawal) -> None:
    out = _render.console()
    status = "was already withdrawn" if found.already_withdrawn else "is withdrawn"
    out.print(f"{found.ref} {status} ({found.category}, by {found.withdrawn_by} at "
              f"{found.withdrawn_at}): {found.reason}", markup=False)
    marked = sum(m.count for m in found.marked)
    out.print(f"{marked} assets marked for revalidation: "
              + (", ".join(f"{m.count} {m.kind}" for m in found.marked) or "none"),
              markup=False)
    _print_assets(out, "marked", ("ref", "kind", "state"),
                  [(i.ref, i.kind, i.state) for i in found.items])
    if found.next_cursor:
        out.print(f"(more: modelatlas lineage withdrawal {found.ref} --cursor "
                  f"{found.next_cursor})", markup=False)


@lineage_app.command("withdraw")
@handles_errors
def withdraw(
    ref: Annotated[str, typer.Argument(help="a dataset version, e.g. dataset:fraud/tx@3")],
    reason: str = typer.Option(..., "--reason", help="Why (kept in the event log)."),
    category: str = typer.Option("other", "--category", help="corrupt, legal or other."),
    depth: DepthOption = 10,
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Withdraw a dataset version (corrupt, legally withdrawn) and mark everything built
    from it for revalidation, in one transaction. Withdrawing again changes nothing."""
    with open_client(home, url) as client:
        found = client.lineage.withdraw(ref, reason=reason, category=category, depth=depth)
    if json_out:
        print_json(found)
    else:
        _print_withdrawal(found)


@lineage_app.command("withdrawal")
@handles_errors
def withdrawal(
    ref: Annotated[str, typer.Argument(help="a withdrawn dataset version")],
    cursor: str | None = typer.Option(None, "--cursor", show_default=False),
    limit: int = typer.Option(100, "--limit", help="Most marked assets listed."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """How REF was withdrawn, and the assets it marked that are still marked."""
    with open_client(home, url) as client:
        found = client.lineage.withdrawal(ref, cursor=cursor, limit=limit)
    if json_out:
        print_json(found)
    else:
        _print_withdrawal(found)
