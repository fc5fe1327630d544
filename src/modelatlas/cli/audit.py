"""``modelatlas audit``: the signed checkpoint, proofs, verification and export of the
audit log (docs/audit.md). ``verify --offline FILE --public-key KEY`` needs nothing but
the export file and the key: no registry, no network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelatlas.cli._app import app
from modelatlas.cli._common import HomeOption, handles_errors, open_registry, print_json
from modelatlas.errors import InvalidInput
from modelatlas.integrity.export import verify_export
from modelatlas.integrity.note import Verifier

audit_app = typer.Typer(name="audit", no_args_is_help=True,
                        help="The audit log: checkpoint, prove, verify, export.")
app.add_typer(audit_app)


@audit_app.command("checkpoint")
@handles_errors
def checkpoint(home: HomeOption = None) -> None:
    """Print the newest signed checkpoint (signing one if the log grew) as JSON."""
    registry = open_registry(home)
    try:
        print_json(registry.audit_checkpoint())
    finally:
        registry.close()


@audit_app.command("public-key")
@handles_errors
def public_key(home: HomeOption = None) -> None:
    """Print the key checkpoints are signed with (give it to offline verifiers)."""
    registry = open_registry(home)
    try:
        typer.echo(registry.audit_public_key())
    finally:
        registry.close()


@audit_app.command("prove")
@handles_errors
def prove(
    seq: Annotated[int | None, typer.Option("--seq", help="Prove this event is in the log.")]
    = None,
    from_size: Annotated[int | None, typer.Option(
        "--from", help="Prove the log extends its state at this size.")] = None,
    to_size: Annotated[int | None, typer.Option(
        "--to", help="The larger size (default: the newest checkpoint).")] = None,
    home: HomeOption = None,
) -> None:
    """An inclusion proof (--seq) or a consistency proof (--from [--to]), verified, as JSON."""
    if (seq is None) == (from_size is None):
        raise InvalidInput.at("/seq", "give either --seq or --from")
    registry = open_registry(home)
    try:
        if seq is not None:
            inclusion = registry.audit_inclusion_proof(seq, tree_size=to_size)
            inclusion.verify()
            print_json(inclusion)
        else:
            assert from_size is not None
            consistency = registry.audit_consistency_proof(from_size, to_size)
            consistency.verify()
            print_json(consistency)
    finally:
        registry.close()


def _verifier(key: str) -> Verifier:
    path = Path(key)
    return Verifier.parse(path.read_text() if path.is_file() else key)


@audit_app.command("verify")
@handles_errors
def verify(
    offline: Annotated[Path | None, typer.Option(
        "--offline", exists=True, dir_okay=False,
        help="Verify an export file instead of the registry.")] = None,
    key: Annotated[str | None, typer.Option(
        "--public-key", help="The trusted key (text or a file holding it); needed offline.")]
    = None,
    home: HomeOption = None,
) -> None:
    """Recompute the tree from the events and check every signed head; on failure, name
    the first bad sequence number and exit 1."""
    if offline is not None:
        if key is None:
            raise InvalidInput.at("/public_key", "--offline needs --public-key")
        with offline.open("rb") as source:
            done = verify_export(source, _verifier(key))
        typer.echo(f"ok: {done.events} events, {done.checkpoints} signed heads, "
                   f"last seq {done.last_seq}")
        return
    registry = open_registry(home)
    try:
        result = registry.audit_verify()
    finally:
        registry.close()
    typer.echo(f"ok: {result.events} events, {result.checkpoints} signed heads, "
               f"last seq {result.last_seq} ({result.events / max(result.seconds, 1e-9):,.0f}"
               " events/s)")


@audit_app.command("export")
@handles_errors
def export(
    path: Annotated[Path, typer.Argument(help="The file to write (JSON Lines).")],
    home: HomeOption = None,
) -> None:
    """Write the log and its signed heads to a file an offline verifier can check."""
    registry = open_registry(home)
    try:
        with path.open("wb") as out:
            count = registry.audit_export(out)
    finally:
        registry.close()
    typer.echo(f"wrote {count} events to {path}")
