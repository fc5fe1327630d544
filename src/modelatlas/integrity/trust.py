"""Holding a log to account from outside its database, as Go's checksum database client
does: keep the last checkpoint verified for each log, and accept a new one only with a
consistency proof from it.

An operator with write access to the database can rewrite events, rebuild the tree and
sign a fresh checkpoint with the log's own key: every server-side check then passes. Only
a checkpoint kept elsewhere catches it. A client keeps, per registry, one small JSON file
(:class:`TrustStore`) holding the pinned log key (configured, or trusted on first use) and
the last checkpoint it verified. On every contact it

1. verifies the served checkpoint's signature with the *pinned* key (never the key the
   server sends along) and, if configured, each required witness's cosignature;
2. asks the registry for a consistency proof between the held size and the new size and
   checks it against the *held* root and the new root (never roots the server sends);
3. only then replaces the held checkpoint, and never by a smaller one.

A mismatch raises :class:`~modelatlas.integrity.errors.LogInconsistent` (or
:class:`~modelatlas.integrity.errors.KeyMismatch`) and leaves the held checkpoint in place:
it is the evidence. Witnesses (:mod:`modelatlas.integrity.witness`) keep the same state.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelatlas.errors import FieldError, InvalidInput, ModelAtlasError
from modelatlas.integrity.errors import KeyMismatch, LogInconsistent, ProofInvalid
from modelatlas.integrity.merkle import verify_consistency
from modelatlas.integrity.note import Checkpoint, Verifier, open_checkpoint

try:  # POSIX: serialise read-check-write of one state file across processes
    import fcntl
except ImportError:  # pragma: no cover - Windows: last writer wins (never a smaller head)
    fcntl = None  # type: ignore[assignment]

STATE_VERSION = 1
#: ``prove(small, large)`` returns the consistency proof hashes between two sizes.
Prover = Callable[[int, int], Sequence[bytes]]


def default_trust_dir() -> Path:
    """``MODELATLAS_TRUST_DIR``, else ``$XDG_CONFIG_HOME/modelatlas/checkpoints`` (default
    ``~/.config/...``): per user, not per project, so trust on first use happens once and
    is not kept in a registry home an operator controls."""
    configured = os.environ.get("MODELATLAS_TRUST_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "modelatlas" / "checkpoints"


def _root(checkpoint: Checkpoint) -> str:
    return base64.b64encode(checkpoint.root).decode()


@dataclass(frozen=True)
class Held:
    """What a client holds for one log: where it is, its pinned key, and the last
    checkpoint verified (a signed note, cosignatures included)."""

    location: str
    public_key: str
    signed_note: str | None = None

    def checkpoint(self) -> Checkpoint | None:
        if self.signed_note is None:
            return None
        return open_checkpoint(self.signed_note, Verifier.parse(self.public_key))


class TrustStore:
    """One JSON file per log location under ``root`` (written atomically)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_trust_dir()

    def path(self, location: str) -> Path:
        readable = re.sub(r"[^A-Za-z0-9.-]+", "_", location.split("://")[-1])[:40].strip("_")
        digest = hashlib.sha256(location.encode()).hexdigest()[:16]
        return self.root / f"{readable or 'log'}-{digest}.json"

    def load(self, location: str) -> Held | None:
        path = self.path(location)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Held(location, str(data["public_key"]), data.get("signed_note"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"cannot read the trusted checkpoint {path}: {exc}",
                               errors=[FieldError("/trust_dir", "unreadable state")]) from None

    def save(self, held: Held) -> None:
        path = self.path(held.location)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": STATE_VERSION, "location": held.location,
                "public_key": held.public_key, "signed_note": held.signed_note}
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)  # readers see the old file or the new, never half

    @contextlib.contextmanager
    def locked(self, location: str) -> Iterator[None]:
        lock = self.path(location).with_suffix(".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def open_trusted(note: str, key: Verifier, witnesses: Sequence[Verifier] = ()) -> Checkpoint:
    """Verify ``note`` with the pinned log key and every required witness key."""
    try:
        checkpoint = open_checkpoint(note, key)
    except ModelAtlasError as exc:
        raise KeyMismatch(f"the checkpoint is not signed by the pinned key {key}: {exc}",
                          errors=[FieldError("/public_key", "not signed by the pinned key")]
                          ) from None
    for witness in witnesses:
        try:
            open_checkpoint(note, witness, origin=checkpoint.origin)
        except ModelAtlasError:
            raise KeyMismatch(
                f"the checkpoint at size {checkpoint.size} is not co-signed by witness "
                f"{witness}: run the witness, or wait until it has co-signed",
                errors=[FieldError("/witnesses", f"no cosignature by {witness.name}")]
            ) from None
    return checkpoint


def _inconsistent(held: Checkpoint, new: Checkpoint, why: str) -> LogInconsistent:
    return LogInconsistent(
        f"the registry's log does not extend the checkpoint held ({why}): held size "
        f"{held.size} root {_root(held)}, served size {new.size} root {_root(new)}",
        errors=[FieldError("/held", f"size {held.size} root {_root(held)}"),
                FieldError("/served", f"size {new.size} root {_root(new)}")])


def check_consistency(held: Checkpoint, new: Checkpoint, prove: Prover) -> None:
    """Raise :class:`LogInconsistent` unless ``held`` and ``new`` are two states of one
    append-only log (either may be the larger: a smaller one is a rollback unless the log
    still proves it is a prefix of the held one)."""
    if held.origin != new.origin:
        raise _inconsistent(held, new, f"origin {new.origin!r}, not {held.origin!r}")
    small, large = (held, new) if held.size <= new.size else (new, held)
    if small.size == 0 or (small.size == large.size and small.root == large.root):
        return
    if small.size == large.size:
        raise _inconsistent(held, new, "same size, different root")
    try:
        proof = prove(small.size, large.size)
    except InvalidInput:  # the registry no longer has the larger tree: it was truncated
        raise _inconsistent(held, new, "the registry cannot prove the sizes") from None
    try:
        verify_consistency(old_size=small.size, new_size=large.size, old_root=small.root,
                           new_root=large.root, proof=proof)
    except ProofInvalid as exc:
        raise _inconsistent(held, new, f"consistency proof fails: {exc.detail}") from None


@dataclass(frozen=True)
class Advance:
    """The outcome of one contact: the verified served checkpoint, the one held before,
    and the one held now (the larger of the two)."""

    served: Checkpoint
    previous: Checkpoint | None
    held: Checkpoint
    public_key: str
    first_use: bool


def advance(store: TrustStore, location: str, note: str, *, served_key: str, prove: Prover,
            pinned_key: str | None = None, witnesses: Sequence[Verifier] = (),
            repin: bool = False) -> Advance:
    """Check ``note`` (served by the log at ``location``) against what the store holds and
    hold it if it is newer. ``served_key`` is used only on first use, when nothing is
    pinned (trust on first use); ``pinned_key`` pins a key from configuration and must
    equal the held one unless ``repin`` (a deliberate key rotation)."""
    with store.locked(location):
        held = store.load(location)
        if held is not None and pinned_key is not None and not repin \
                and Verifier.parse(pinned_key) != Verifier.parse(held.public_key):
            raise KeyMismatch(
                f"the configured key {pinned_key} differs from the key pinned for "
                f"{location} ({held.public_key})",
                errors=[FieldError("/public_key", "differs from the pinned key")])
        key = pinned_key or (held.public_key if held is not None else served_key)
        served = open_trusted(note, Verifier.parse(key), witnesses)
        previous = held.checkpoint() if held is not None else None
        if previous is not None:
            check_consistency(previous, served, prove)
        rotated = held is not None and key != held.public_key
        # a smaller (consistent) head is a lagging replica: keep the larger one held,
        # unless the key rotated and the held note is no longer readable with the pin
        keep = previous if previous is not None and previous.size > served.size \
            and not rotated else served
        if keep is served:
            store.save(Held(location, str(Verifier.parse(key)), note))
        return Advance(served, previous, keep, str(Verifier.parse(key)), held is None)
