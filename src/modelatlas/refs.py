"""The ref grammar: ``kind:namespace/name@version``. One parser, one formatter.

* ``kind`` is one of :data:`KINDS`.
* ``namespace`` is the owning team: lowercase ASCII letters, digits, ``-`` and ``_``.
* ``name`` may use any Unicode letter or digit plus ``.``, ``_`` and ``-``; it is
  NFC-normalised, so two names that differ only by normalisation are the same name, and
  control, format (zero-width, bidi override) and space characters are refused, so two
  names can never differ only by an invisible character.
* ``version`` is optional: ASCII letters, digits, ``.``, ``_``, ``+`` and ``-``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from modelatlas.errors import FieldError, InvalidRef, UnknownKind

KINDS: tuple[str, ...] = (
    "model",
    "model_version",
    "dataset",
    "feature",
    "schema",
    "environment",
    "code",
    "run",
    "evaluation",
    "deployment",
)

MAX_NAME = 200
MAX_VERSION = 100
_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_NAME_PUNCTUATION = frozenset("._-")


def check_kind(kind: str, *, path: str = "/kind") -> str:
    if kind not in KINDS:
        raise UnknownKind(
            f"unknown kind {kind!r}; one of: {', '.join(KINDS)}",
            errors=[FieldError(path, f"unknown kind {kind!r}")],
        )
    return kind


def check_namespace(namespace: str, *, path: str = "/namespace") -> str:
    if not _NAMESPACE.match(namespace):
        raise InvalidRef(
            f"namespace {namespace!r} must be 1-63 lowercase letters, digits, '-' or '_'",
            errors=[FieldError(path, "lowercase letters, digits, '-' or '_', at most 63")],
        )
    return namespace


def normalise_name(name: str, *, path: str = "/name") -> str:
    """NFC-normalise ``name`` and refuse characters a reader could not see or tell apart."""
    name = unicodedata.normalize("NFC", name)
    if not name or len(name) > MAX_NAME:
        raise InvalidRef(
            f"name must be 1-{MAX_NAME} characters",
            errors=[FieldError(path, f"1-{MAX_NAME} characters")],
        )
    if not name.strip("."):
        # "." and ".." are path steps to every URL, file system and HTTP client that meets
        # them: an asset so named could only be reached by escaping, and is a traversal
        # attempt more often than a name
        raise InvalidRef(
            f"name {name!r} is only dots", errors=[FieldError(path, "not only dots")])
    for index, ch in enumerate(name):
        if ch in _NAME_PUNCTUATION:
            continue
        category = unicodedata.category(ch)
        if category[0] in "LN" or (category == "Mn" and index > 0):
            continue
        label = unicodedata.name(ch, f"U+{ord(ch):04X}")
        reason = (
            "invisible or control character"
            if category[0] in "CZ"
            else "character not allowed in a name"
        )
        raise InvalidRef(
            f"name {name!r} holds {label} (U+{ord(ch):04X}) at position {index}: {reason}",
            errors=[FieldError(path, f"{reason}: U+{ord(ch):04X} at {index}")],
        )
    return name


def check_version(version: str, *, path: str = "/version") -> str:
    if len(version) > MAX_VERSION or not _VERSION.match(version):
        raise InvalidRef(
            f"version {version!r} must start with a letter or digit and use letters, "
            "digits, '.', '_', '+' or '-'",
            errors=[FieldError(path, "letters, digits, '.', '_', '+' or '-'")],
        )
    return version


@dataclass(frozen=True, slots=True)
class Ref:
    """The address of an asset. Construct through :meth:`parse` or :meth:`of`."""

    kind: str
    namespace: str
    name: str
    version: str | None = None

    @classmethod
    def of(
        cls, kind: str, namespace: str, name: str, version: str | int | None = None
    ) -> Ref:
        """Build a ref from parts, validating and normalising each."""
        return cls(
            check_kind(kind),
            check_namespace(namespace),
            normalise_name(name),
            None if version is None else check_version(str(version)),
        )

    @classmethod
    def coerce(cls, value: str | Ref, *, path: str = "/ref") -> Ref:
        """A ref given either parsed or as text (service methods accept both)."""
        return value if isinstance(value, Ref) else cls.parse(value, path=path)

    @classmethod
    def parse(cls, text: str, *, path: str = "/ref") -> Ref:
        """Parse ``kind:namespace/name@version``; the error names what is wrong."""
        if not isinstance(text, str):
            raise InvalidRef("a ref must be a string", errors=[FieldError(path, "not a string")])
        kind, sep, rest = text.partition(":")
        if not sep:
            raise InvalidRef(
                f"ref {text!r} has no kind: write kind:namespace/name[@version]",
                errors=[FieldError(path, "missing 'kind:'")],
            )
        namespace, sep, rest = rest.partition("/")
        if not sep:
            raise InvalidRef(
                f"ref {text!r} has no namespace: write kind:namespace/name[@version]",
                errors=[FieldError(path, "missing 'namespace/'")],
            )
        name, sep, version = rest.rpartition("@")
        if not sep:
            name, version = rest, ""
        elif not version:
            raise InvalidRef(
                f"ref {text!r} ends with '@' but has no version",
                errors=[FieldError(path, "empty version")],
            )
        try:
            return cls.of(kind, namespace, name, version or None)
        except (InvalidRef, UnknownKind) as exc:
            raise type(exc)(
                f"ref {text!r}: {exc.detail}", errors=[FieldError(path, exc.detail)]
            ) from None

    def __str__(self) -> str:
        base = f"{self.kind}:{self.namespace}/{self.name}"
        return base if self.version is None else f"{base}@{self.version}"

    def with_version(self, version: str | int | None) -> Ref:
        return Ref.of(self.kind, self.namespace, self.name, version)

    @property
    def series(self) -> tuple[str, str, str]:
        """What the versions of one asset share: kind, namespace and name."""
        return (self.kind, self.namespace, self.name)
