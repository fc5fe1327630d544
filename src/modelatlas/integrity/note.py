"""C2SP signed notes and tlog checkpoints, with Ed25519 keys (the ``cryptography`` package).

A checkpoint (c2sp.org/tlog-checkpoint) is the note text::

    <origin>\\n<decimal tree size>\\n<base64 root hash>\\n

and a signed note (c2sp.org/signed-note) is that text, a blank line, then one line per
signature: ``— <key name> <base64(key id || signature)>``. The signature is Ed25519 over
the text (with its final newline, without the blank line); the key id is the first four
bytes of ``SHA-256(name || 0x0A || 0x01 || public key)``. Keys are written the way
golang.org/x/mod/sumdb/note writes them, so Go tooling (witnesses, ``note.Open``) reads
ours: ``<name>+<key id hex>+<base64(0x01 || public key)>`` for the verifier key and
``PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || seed)>`` for the signer key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from modelatlas.errors import FieldError, InvalidInput
from modelatlas.integrity.errors import VerificationFailed

ALG_ED25519 = 1
_DASH = "\u2014"  # the em dash every signature line starts with
MAX_SIGNATURES = 100


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name) or not name.isprintable():
        raise InvalidInput.at("/name", "a key name is printable, without spaces or '+'")


def _b64(text: str, path: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise InvalidInput.at(path, "not standard base64") from None


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signatures made under ``name``."""

    name: str
    public: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Read ``<name>+<hex key id>+<base64(0x01 || key)>``, refusing any mangling."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise InvalidInput.at("/public_key", "expected <name>+<key id>+<key>")
        name, hexid, material = parts
        _check_name(name)
        raw = _b64(material, "/public_key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise InvalidInput.at("/public_key", "not an Ed25519 note key")
        if len(hexid) != 8 or key_id(name, raw[1:]).hex() != hexid:
            raise InvalidInput.at("/public_key", "the key id does not match the key")
        return cls(name, raw[1:])

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public)

    def __str__(self) -> str:
        material = base64.b64encode(bytes([ALG_ED25519]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def check(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)

    @classmethod
    def parse(cls, skey: str) -> Signer:
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise InvalidInput.at("/key", "expected PRIVATE+KEY+<name>+<key id>+<key>")
        name, hexid, material = parts[2:]
        _check_name(name)
        raw = _b64(material, "/key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise InvalidInput.at("/key", "not an Ed25519 note key")
        signer = cls(name, raw[1:])
        if signer.verifier.key_id.hex() != hexid:
            raise InvalidInput.at("/key", "the key id does not match the key")
        return signer

    @property
    def verifier(self) -> Verifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return Verifier(self.name, public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def __str__(self) -> str:
        material = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{material}"

    def sign(self, text: str) -> str:
        """The signed note: ``text`` (which must end in a newline), a blank line, and this
        key's signature line."""
        if not text.endswith("\n") or "\n\n" in text:
            raise ValueError("note text ends with one newline and has no blank line")
        body = text.encode()
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(body)
        blob = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{_DASH} {self.name} {blob}\n"


def _bad(message: str) -> VerificationFailed:
    return VerificationFailed(f"signed note rejected: {message}",
                              errors=[FieldError("/signed_note", message)])


def open_note(note: str, verifier: Verifier) -> str:
    """Return the text of ``note`` if ``verifier`` signed it; raise otherwise. Signature
    lines from other keys are allowed (witness cosignatures) and ignored."""
    text, sep, sigs = note.rpartition("\n\n")
    if not sep or not sigs.endswith("\n") or len(note) > 1_000_000:
        raise _bad("not a signed note (text, blank line, signature lines)")
    text += "\n"
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _bad("too many signatures")
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH:
            raise _bad(f"malformed signature line {line[:60]!r}")
        _, name, blob = parts
        if name != verifier.name:
            continue
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error:
            raise _bad("a signature is not base64") from None
        if raw[:4] == verifier.key_id:
            if not verifier.check(text.encode(), raw[4:]):
                raise _bad(f"the signature by {name} does not match the text")
            return text
    raise _bad(f"no signature by {verifier.name}+{verifier.key_id.hex()}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """The first three lines of a checkpoint body (extension lines are allowed)."""
        lines = text.split("\n")
        if len(lines) < 4 or not lines[0]:
            raise _bad("a checkpoint has an origin, a size and a root hash")
        origin, size, root = lines[:3]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise _bad("the checkpoint size is not a decimal number")
        try:
            raw = base64.b64decode(root, validate=True)
        except binascii.Error:
            raise _bad("the checkpoint root is not base64") from None
        if len(raw) != 32:
            raise _bad("the checkpoint root is not a SHA-256 hash")
        return cls(origin, int(size), raw)


def open_checkpoint(note: str, verifier: Verifier, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and return what it says."""
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if origin is not None and checkpoint.origin != origin:
        raise _bad(f"the checkpoint is for {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
