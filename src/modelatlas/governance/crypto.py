"""Encryption at rest of sensitive field values: AES-256-GCM and the keyring it uses.

A value is sealed with the keyring's current key, a fresh 96-bit random nonce, and the
associated data ``modelatlas:v1:{asset_id}:{field}``: the ciphertext is bound to the row
and the field it was written for, so one copied to another row or field (or altered in any
byte) fails to open instead of showing someone else's secret.

The keyring holds one current key (what new values are sealed with) and older keys by id
(what values written before a rotation still need). It comes from one of two places:

* ``MODELATLAS_ENCRYPTION_KEY``: ``[id:]base64`` (32 bytes), several separated by commas,
  the first being current. The operator rotates by putting a new key first.
* a key file (``MODELATLAS_ENCRYPTION_KEY_FILE``, default ``MODELATLAS_HOME/keys/data.key``):
  JSON ``{"format", "current", "keys": {id: base64}}``, created 0600 on first need, and
  rewritten whole (temporary file, then rename) by a rotation.

No database here: the service layer (registry/_sensitive.py) decides what to seal and where
the sealed values live.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from modelatlas.errors import FieldError, ModelAtlasError, Unavailable

FILE_FORMAT = "modelatlas-data-keys/1"
KEY_BYTES = 32
NONCE_BYTES = 12
ENV_KEY = "MODELATLAS_ENCRYPTION_KEY"
ENV_FILE = "MODELATLAS_ENCRYPTION_KEY_FILE"


class DecryptionFailed(ModelAtlasError):
    """A stored ciphertext does not open under its key and its row's associated data: it
    was altered, or copied from another row or field. The value is lost unless restored
    from a backup; nothing about the ciphertext or key is shown."""

    code = "decryption_failed"
    status = 500
    title = "An encrypted value cannot be read"
    remedy = ("restore the value from a database backup: the key is not at fault, the "
              "stored row is")


def associated_data(asset_id: int, field_name: str) -> bytes:
    return f"modelatlas:v1:{asset_id}:{field_name}".encode()


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class Keyring:
    """The current key and the older ones, by id. Immutable: a rotation makes a new one."""

    current: str
    keys: dict[str, bytes] = field(repr=False)
    source: Literal["file", "env"] = "file"

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError("the current key must be in the keyring")
        for key_id, key in self.keys.items():
            _check_key_id(key_id)
            if len(key) != KEY_BYTES:
                raise _bad_key(f"key {key_id} is {len(key)} bytes, not {KEY_BYTES}", self.source)

    @classmethod
    def generate(cls) -> Keyring:
        key_id = new_key_id()
        return cls(current=key_id, keys={key_id: AESGCM.generate_key(bit_length=256)})

    def seal(self, plaintext: bytes, *, asset_id: int, field_name: str) -> Sealed:
        nonce = secrets.token_bytes(NONCE_BYTES)
        aead = AESGCM(self.keys[self.current])
        ciphertext = aead.encrypt(nonce, plaintext, associated_data(asset_id, field_name))
        return Sealed(self.current, nonce, ciphertext)

    def open(self, sealed: Sealed, *, asset_id: int, field_name: str) -> bytes:
        """The plaintext; :class:`DecryptionFailed` if it does not authenticate for this
        row and field, :class:`Unavailable` if its key is not in the keyring."""
        key = self.keys.get(sealed.key_id)
        if key is None:
            raise Unavailable(
                f"the value of {field_name} (asset {asset_id}) is encrypted with key "
                f"{sealed.key_id}, which the keyring does not hold",
                errors=[FieldError(ENV_FILE if self.source == "file" else ENV_KEY,
                                   f"add key {sealed.key_id} back (from a backup of the "
                                   "key file)")],
            )
        try:
            return AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext,
                                       associated_data(asset_id, field_name))
        except InvalidTag:
            raise DecryptionFailed(
                f"the stored value of {field_name} (asset {asset_id}) does not authenticate: "
                "it was altered or copied from another row",
                errors=[FieldError(f"/{field_name.replace('.', '/', 1)}",
                                   "ciphertext does not authenticate")],
            ) from None

    def rotated(self) -> Keyring:
        """This keyring with a new current key (the old ones kept for what they sealed)."""
        key_id = new_key_id()
        while key_id in self.keys:  # 32 random bits: a clash is possible, if unlikely
            key_id = new_key_id()
        return Keyring(key_id, {**self.keys, key_id: AESGCM.generate_key(bit_length=256)},
                       self.source)

    def without(self, key_ids: set[str]) -> Keyring:
        """This keyring without ``key_ids`` (never the current one)."""
        kept = {k: v for k, v in self.keys.items() if k not in key_ids or k == self.current}
        return Keyring(self.current, kept, self.source)


def new_key_id() -> str:
    return secrets.token_hex(4)


def _check_key_id(key_id: str) -> None:
    if not key_id or len(key_id) > 32 or not all(c.isalnum() or c in "-_" for c in key_id):
        raise _bad_key(f"key id {key_id!r}: 1-32 letters, digits, - or _", "file")


def _bad_key(message: str, source: str) -> Unavailable:
    where = ENV_KEY if source == "env" else ENV_FILE
    return Unavailable(f"the data encryption key is not usable: {message}",
                       errors=[FieldError(where, message)])


def _b64key(text: str, source: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _bad_key("a key is not valid base64", source) from None


# sources ---------------------------------------------------------------------------------
def keyring_from_env(value: str) -> Keyring:
    """``[id:]base64[,[id:]base64...]``: the first key is current (id ``env`` if unnamed)."""
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for index, part in enumerate(p.strip() for p in value.split(",")):
        if not part:
            continue
        key_id, _, text = part.rpartition(":")
        key_id = key_id or ("env" if index == 0 else f"env{index}")
        if key_id in keys:
            raise _bad_key(f"key id {key_id} appears twice", "env")
        keys[key_id] = _b64key(text, "env")
        order.append(key_id)
    if not order:
        raise _bad_key("it is empty", "env")
    return Keyring(order[0], keys, "env")


def read_key_file(path: Path) -> Keyring:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = {str(k): _b64key(str(v), "file") for k, v in data["keys"].items()}
        if data.get("format") != FILE_FORMAT:
            raise ValueError(f"format is not {FILE_FORMAT}")
        return Keyring(str(data["current"]), keys, "file")
    except Unavailable:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Unavailable(
            f"cannot read the data encryption key file {path}: {type(exc).__name__}",
            errors=[FieldError(ENV_FILE, "unreadable or not a ModelAtlas key file: restore "
                               "it from a backup")],
        ) from None


def write_key_file(path: Path, keyring: Keyring, *, exclusive: bool = False) -> bool:
    """Write ``keyring`` to ``path`` (0600). ``exclusive``: only if the file does not exist
    yet (returns False when another process made it first). Otherwise the file is replaced
    atomically, so a reader sees the old keyring or the new one, never half of one."""
    body = json.dumps({
        "format": FILE_FORMAT, "current": keyring.current,
        "keys": {k: base64.b64encode(v).decode() for k, v in keyring.keys.items()},
    }, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path if exclusive else path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if exclusive:
            return False
        raise
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    if not exclusive:
        os.replace(target, path)
    return True


def load_or_create_key_file(path: Path) -> Keyring:
    """The keyring in ``path``; a new one written there (0600) if the file does not exist."""
    if not path.exists():
        # O_EXCL: of two processes starting at once, both read back the winner's keyring
        write_key_file(path, Keyring.generate(), exclusive=True)
    return read_key_file(path)
