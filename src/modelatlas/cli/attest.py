"""``modelatlas verify-artifact``, ``modelatlas manifest``, ``modelatlas keys ...`` and
``modelatlas attest ...``: artifact manifests, namespace signing keys and attestations."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelatlas.cli import _render
from modelatlas.cli._app import app
from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    fail,
    handles_errors,
    open_client,
    print_json,
)
from modelatlas.client._attestations import ArtifactsAPI
from modelatlas.errors import InvalidInput
from modelatlas.registry.attestation_types import Attestation, AttestationList, SigningKey

__all__ = ["attest_app", "keys_app"]

keys_app = typer.Typer(name="keys", no_args_is_help=True,
                       help="Keys: the public keys a namespace signs attestations with "
                       "(add, list, revoke) and the registry's data encryption keys of "
                       "sensitive fields (status, rotate).")
attest_app = typer.Typer(name="attest", no_args_is_help=True,
                         help="Attestations: DSSE-signed in-toto Statements about an artifact.")
app.add_typer(keys_app)
app.add_typer(attest_app)

RefArg = Annotated[str, typer.Argument(help="a model version, e.g. model_version:fraud/churn@7")]
NamespaceArg = Annotated[str, typer.Argument(help="the namespace (team), e.g. fraud")]


@app.command("verify-artifact")
@handles_errors
def verify_artifact(
    ref: RefArg,
    path: Annotated[Path, typer.Argument(help="the local copy: a file or a directory")],
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Check a local copy of a model version's artifact against its recorded manifest;
    name each differing file and exit 1 when any differs."""
    with open_client(home, url) as client:
        recorded = client.artifacts.get(ref)
        diff = client.artifacts.verify(ref, path)
    if diff.matches:
        typer.echo(f"OK {path} matches {ref} (sha256:{recorded.root_digest}, "
                   f"{len(recorded.files)} files)")
        return
    for label, names in (("changed", diff.changed), ("missing", diff.missing),
                         ("extra", diff.extra)):
        for name in names:
            typer.echo(f"{label}: {name}")
    raise fail(f"{path} does not match {ref}: {len(diff.changed)} changed, "
               f"{len(diff.missing)} missing, {len(diff.extra)} extra")


@app.command("manifest")
@handles_errors
def manifest(
    path: Annotated[Path, typer.Argument(help="a model file or directory")],
    allow_symlinks: Annotated[bool, typer.Option("--allow-symlinks",
                                                 help="follow links to files")] = False,
    output: Annotated[Path | None, typer.Option("-o", "--output", dir_okay=False,
                                                show_default=False,
                                                help="write here instead of stdout")] = None,
) -> None:
    """Hash an artifact into its manifest (the in-toto Statement a registration takes)."""
    statement = ArtifactsAPI.manifest(path, allow_symlinks=allow_symlinks)
    text = json.dumps(statement, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput.at(str(output), f"cannot write: {exc}") from None


def _keys_table(keys: list[SigningKey]) -> Table:
    table = Table(title="signing keys", title_justify="left")
    for column in ("key id", "algorithm", "name", "added", "revoked"):
        table.add_column(column)
    for key in keys:
        table.add_row(key.key_id, key.algorithm, key.name, f"{key.created_at} {key.created_by}",
                      key.revoked_at or "")
    return table


@keys_app.command("add")
@handles_errors
def keys_add(
    namespace: NamespaceArg,
    public_key: Annotated[Path, typer.Argument(help="PEM public key file (Ed25519 or P-256)")],
    name: Annotated[str, typer.Option("--name", help="a label for the key")] = "",
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Trust a public key for attestations about the namespace's assets."""
    try:
        pem = public_key.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput.at(str(public_key), f"cannot read: {exc}") from None
    with open_client(home, url) as client:
        key = client.attestations.register_key(namespace, pem, name=name)
    typer.echo(f"registered {key.algorithm} key {key.key_id} for {namespace}")


@keys_app.command("list")
@handles_errors
def keys_list(namespace: NamespaceArg, json_out: JsonOption = False,
              home: HomeOption = None, url: UrlOption = None) -> None:
    """The namespace's keys, revoked ones included."""
    with open_client(home, url) as client:
        keys = client.attestations.keys(namespace)
    if json_out:
        print_json([k.model_dump(mode="json") for k in keys])
    else:
        _render.console().print(_keys_table(keys))


@keys_app.command("revoke")
@handles_errors
def keys_revoke(namespace: NamespaceArg,
                key_id: Annotated[str, typer.Argument(help="the key id (keys list shows it)")],
                home: HomeOption = None, url: UrlOption = None) -> None:
    """Stop trusting a key: uploads it signs are refused from now on."""
    with open_client(home, url) as client:
        key = client.attestations.revoke_key(namespace, key_id)
    typer.echo(f"revoked key {key.key_id} of {namespace} at {key.revoked_at}")


def _line(item: Attestation) -> str:
    return (f"#{item.id} {item.status} {item.predicate_type} by {item.signer} "
            f"(event {item.event_seq}, {item.created_at})")


@attest_app.command("sign")
@handles_errors
def attest_sign(ref: RefArg, json_out: JsonOption = False,
                home: HomeOption = None, url: UrlOption = None) -> None:
    """The registry signs SLSA provenance of the run that produced the version."""
    with open_client(home, url) as client:
        item = client.attestations.sign(ref)
    if json_out:
        print_json(item)
    else:
        typer.echo(_line(item))


@attest_app.command("upload")
@handles_errors
def attest_upload(
    ref: RefArg,
    envelope: Annotated[Path, typer.Argument(help="a DSSE envelope or model-signing bundle")],
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Upload a signed attestation; it is verified against the namespace's keys."""
    try:
        text = envelope.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput.at(str(envelope), f"cannot read: {exc}") from None
    with open_client(home, url) as client:
        item = client.attestations.upload(ref, text)
    if json_out:
        print_json(item)
    else:
        typer.echo(_line(item))


def _print_list(listed: AttestationList) -> None:
    typer.echo(f"{listed.ref}: artifact {listed.artifact_digest or '(no digest recorded)'}, "
               f"attestations {listed.status}")
    for item in listed.items:
        typer.echo("  " + _line(item))


@attest_app.command("list")
@handles_errors
def attest_list(ref: RefArg, json_out: JsonOption = False,
                home: HomeOption = None, url: UrlOption = None) -> None:
    """An asset's attestations, newest first, with their status."""
    with open_client(home, url) as client:
        listed = client.attestations.list(ref)
    if json_out:
        print_json(listed)
    else:
        _print_list(listed)
