"""``modelatlas audit``: the signed checkpoint, proofs, verification and export of the
audit log, and holding it to account from outside (docs/audit.md).

``checkpoint``, ``public-key``, ``prove``, ``check``, ``publish`` and ``witness`` work on
the local registry or, with ``--url`` / ``MODELATLAS_URL``, on a remote one through the SDK;
every command that fetches a checkpoint checks it against the one held in the trust
directory. ``verify`` and ``export`` read the whole database, so they run where it is;
``verify --offline FILE --public-key KEY`` needs nothing but the export file and the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import httpx
import typer

from modelatlas.cli._app import app
from modelatlas.cli._common import (
    HomeOption,
    UrlOption,
    handles_errors,
    open_client,
    open_registry,
    print_json,
)
from modelatlas.client import Client
from modelatlas.errors import FieldError, InvalidInput, Unavailable
from modelatlas.integrity.export import verify_export
from modelatlas.integrity.keys import load_signer
from modelatlas.integrity.note import Signer, Verifier
from modelatlas.integrity.trust import TrustStore, default_trust_dir

audit_app = typer.Typer(name="audit", no_args_is_help=True,
                        help="The audit log: checkpoint, prove, verify, export, check, "
                             "publish, witness.")
app.add_typer(audit_app)

TrustDirOption = Annotated[Path | None, typer.Option(
    "--trust-dir", envvar="MODELATLAS_TRUST_DIR", show_default=False,
    help="Where checked checkpoints are held; default ~/.config/modelatlas/checkpoints.")]
PinOption = Annotated[str | None, typer.Option(
    "--public-key", help="Pin the log's key (text or a file) instead of trusting the first "
    "one seen.")]
WitnessOption = Annotated[list[str] | None, typer.Option(
    "--witness", help="Require a cosignature by this witness key (text or file); repeatable.")]


def _key_text(key: str) -> str:
    path = Path(key)
    return path.read_text().strip() if path.is_file() else key


def _verifier(key: str) -> Verifier:
    return Verifier.parse(_key_text(key))


def _configured(client: Client, trust_dir: Path | None, pin: str | None,
                witnesses: list[str] | None) -> Client:
    client.audit.configure(trust_dir=trust_dir,
                           public_key=None if pin is None else _key_text(pin),
                           witness_keys=[_key_text(w) for w in witnesses or []])
    return client


@audit_app.command("checkpoint")
@handles_errors
def checkpoint(home: HomeOption = None, url: UrlOption = None,
               trust_dir: TrustDirOption = None, pin: PinOption = None,
               witness: WitnessOption = None) -> None:
    """Print the newest signed checkpoint (signing one if the log grew) as JSON, after
    checking it against the checkpoint held from the last contact."""
    with open_client(home, url) as client:
        print_json(_configured(client, trust_dir, pin, witness).audit.checkpoint())


@audit_app.command("public-key")
@handles_errors
def public_key(home: HomeOption = None, url: UrlOption = None) -> None:
    """Print the key checkpoints are signed with (give it to offline verifiers; pin it in
    clients after checking it out of band)."""
    with open_client(home, url) as client:
        typer.echo(client.audit.public_key())


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
    url: UrlOption = None,
) -> None:
    """An inclusion proof (--seq) or a consistency proof (--from [--to]), verified, as JSON."""
    if (seq is None) == (from_size is None):
        raise InvalidInput.at("/seq", "give either --seq or --from")
    with open_client(home, url) as client:
        if seq is not None:
            print_json(client.audit.inclusion_proof(seq, tree_size=to_size))
        else:
            assert from_size is not None
            print_json(client.audit.consistency_proof(from_size, to_size))


@audit_app.command("check")
@handles_errors
def check(home: HomeOption = None, url: UrlOption = None, trust_dir: TrustDirOption = None,
          pin: PinOption = None, witness: WitnessOption = None,
          repin: Annotated[bool, typer.Option(
              "--repin", help="Accept --public-key although another key is pinned (a "
              "rotation checked out of band); consistency is still checked.")] = False,
          as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
          ) -> None:
    """Check the registry's log extends the checkpoint held from the last contact (a
    consistency proof against the held root) and hold the new one; exit 1 if the log was
    rewritten, rolled back or signed by another key."""
    with open_client(home, url) as client:
        done = _configured(client, trust_dir, pin, witness).audit.check(repin=repin)
    if as_json:
        print_json(done)
        return
    since = "first use: key pinned" if done.previous_size is None \
        else f"extends the held size {done.previous_size}"
    typer.echo(f"ok: {done.location} at size {done.size} ({since}), root {done.root}")


def _refuse_remote(url: str | None, command: str) -> None:
    if url:
        raise InvalidInput(
            f"`audit {command}` reads the registry's database, so it runs where the "
            "registry is; against a remote registry use `audit check`, or export there "
            "and `audit verify --offline`", errors=[FieldError("/url", "local only")])


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
    url: UrlOption = None,
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
    _refuse_remote(url, "verify")
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
    url: UrlOption = None,
) -> None:
    """Write the log and its signed heads to a file an offline verifier can check."""
    _refuse_remote(url, "export")
    registry = open_registry(home)
    try:
        with path.open("wb") as out:
            count = registry.audit_export(out)
    finally:
        registry.close()
    typer.echo(f"wrote {count} events to {path}")


def _is_url(place: str) -> bool:
    return place.startswith(("http://", "https://"))


def _publish(note: str, size: int, dest: str) -> str:
    """Write ``note`` as ``DEST/<size>`` and ``DEST/latest``, or POST it to a URL."""
    if _is_url(dest):
        try:
            response = httpx.post(dest, content=note.encode(), timeout=30.0,
                                  headers={"content-type": "text/plain; charset=utf-8"})
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach {dest}: {exc}") from exc
        if response.status_code >= 300:
            raise Unavailable(f"{dest} answered HTTP {response.status_code}",
                              errors=[FieldError("/dest", "refused the checkpoint")])
        return dest
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (str(size), "latest"):
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        temporary.write_text(note, encoding="utf-8")
        os.replace(temporary, folder / name)  # a reader never sees half a note
    return str(folder / str(size))


@audit_app.command("publish")
@handles_errors
def publish(
    dest: Annotated[str, typer.Argument(help="A directory, or an http(s) URL to POST to.")],
    home: HomeOption = None, url: UrlOption = None, trust_dir: TrustDirOption = None,
    pin: PinOption = None, witness: WitnessOption = None,
) -> None:
    """Publish the current signed checkpoint (checked first) outside the registry: as
    DIR/<size> and DIR/latest, or POSTed as text to a URL."""
    with open_client(home, url) as client:
        found = _configured(client, trust_dir, pin, witness).audit.checkpoint()
    typer.echo(f"published size {found.size} to {_publish(found.signed_note, found.size, dest)}")


def _read_published(source: str) -> str:
    if _is_url(source):
        target = source + "latest" if source.endswith("/") else source
        try:
            response = httpx.get(target, timeout=30.0)
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach {target}: {exc}") from exc
        if response.status_code != 200:
            raise Unavailable(f"{target} answered HTTP {response.status_code}")
        return response.text
    path = Path(source)
    path = path / "latest" if path.is_dir() else path
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput.at("/from", f"cannot read a published checkpoint: {exc}") from None


@audit_app.command("witness")
@handles_errors
def witness(
    key: Annotated[Path, typer.Option("--key", help="The witness's private note key file.")],
    source: Annotated[str | None, typer.Option(
        "--from", help="A published checkpoint (DIR or URL); default: ask the registry.")]
    = None,
    log_key: Annotated[str | None, typer.Option(
        "--log-key", help="Pin the log's key (text or file); default: trust on first use.")]
    = None,
    state: Annotated[Path | None, typer.Option(
        "--state", help="Where the witness holds what it co-signed; default "
        "TRUST_DIR/witness.")] = None,
    upload: Annotated[bool, typer.Option(
        "--upload/--no-upload", help="Give the co-signed note to the registry.")] = True,
    home: HomeOption = None, url: UrlOption = None, trust_dir: TrustDirOption = None,
) -> None:
    """Co-sign the log's checkpoint as a witness: check it extends the last one this
    witness co-signed (consistency proof from the registry), add the witness's signature
    line, hold it, print it, and upload it to the registry."""
    try:
        signer = Signer.parse(key.read_text())
    except OSError as exc:
        raise InvalidInput.at("/key", f"cannot read the witness key: {exc}") from None
    folder = state or (trust_dir or default_trust_dir()) / "witness"
    with open_client(home, url) as client:
        note = _read_published(source) if source else client.audit.checkpoint().signed_note
        cosigned = client.audit.witness(
            note, witness=signer, state=TrustStore(folder),
            log_key=None if log_key is None else _key_text(log_key), upload=upload)
    typer.echo(cosigned, nl=False)


@audit_app.command("keygen")
@handles_errors
def keygen(
    name: Annotated[str, typer.Argument(help="The key's name (e.g. witness.example.org).")],
    path: Annotated[Path, typer.Argument(help="The private key file to create (mode 0600).")],
) -> None:
    """Make a note key (for a witness) and print its public verifier key."""
    if path.exists():
        raise InvalidInput.at("/path", f"{path} exists: refusing to overwrite a key")
    typer.echo(str(load_signer(path, name=name).verifier))

