"""What every reader of requirement files shares: reading a file within limits, naming it
relative to the directory read, turning one PEP 508 string into a
:class:`~modelatlas.deps.model.PackageRequirement`, and the errors that name file and line.

Every error a reader raises is an :class:`~modelatlas.errors.InvalidInput` (or, for a file
over :data:`MAX_FILE_BYTES`, a :class:`~modelatlas.errors.PayloadTooLarge`) whose single
field error has the path ``<file>:<line>``; no parser's own exception escapes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from modelatlas.deps.model import Origin, PackageRequirement
from modelatlas.errors import FieldError, InvalidInput, PayloadTooLarge

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_INCLUDE_DEPTH = 20

# A distribution name as PEP 508 allows it (before canonicalisation).
NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


def fail(where: Origin | str, reason: str) -> InvalidInput:
    """The error for bad input at ``where`` (``file:line`` or a field path)."""
    return InvalidInput.at(str(where), reason)


def display_name(path: Path, root: Path) -> str:
    """``path`` as the user should read it: relative to ``root``, with ``/`` separators."""
    try:
        relative = os.path.relpath(os.path.normpath(path), os.path.normpath(root))
    except ValueError:  # another drive on Windows: no relative form exists
        return Path(os.path.normpath(path)).as_posix()
    return Path(relative).as_posix()


def check_size(size: int, name: str) -> None:
    if size > MAX_FILE_BYTES:
        mib = MAX_FILE_BYTES // (1024 * 1024)
        reason = f"{size} bytes is over the {mib} MiB limit for a requirements file"
        raise PayloadTooLarge(f"{name}: {reason}", errors=[FieldError(name, reason)])


def read_text(path: Path, name: str) -> str:
    """The text of ``path`` (UTF-8, an optional BOM dropped), refusing large files.

    ``name`` is how errors name the file. A byte that is not UTF-8 is reported with the line
    it sits on, because an editor can jump there.
    """
    try:
        size = path.stat().st_size
        check_size(size, name)
        data = path.read_bytes()
    except FileNotFoundError:
        raise fail(name, "no such file") from None
    except IsADirectoryError:
        raise fail(name, "is a directory, not a file") from None
    except OSError as exc:
        raise fail(name, f"cannot read: {exc.strerror or exc}") from None
    check_size(len(data), name)  # the file may have grown since stat
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise fail(f"{name}:{line}", f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from None


def first_line(exc: Exception) -> str:
    """packaging's messages end with the input and a caret drawn under it; keep the reason."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def canonical_extras(extras: set[str] | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    # PEP 685: extras compare by their canonical form, like names.
    return tuple(sorted({canonicalize_name(extra) for extra in extras}))


def package_from_pep508(
    text: str, origin: Origin, *, hashes: tuple[str, ...] = ()
) -> PackageRequirement:
    """One PEP 508 requirement string, with name canonicalised and specifier and marker in
    packaging's normal form. Unknown marker variables are refused here, by packaging."""
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise fail(origin, f"invalid requirement {text!r}: {first_line(exc)}") from None
    return PackageRequirement(
        name=canonicalize_name(req.name),
        specifier=str(req.specifier),
        extras=canonical_extras(req.extras),
        marker=str(req.marker) if req.marker is not None else None,
        url=req.url,
        hashes=hashes,
        origin=origin,
    )


def specifier_text(text: str, where: Origin | str, *, what: str = "version specifier") -> str:
    """A PEP 440 specifier set in normal form (sorted, no spaces)."""
    try:
        return str(SpecifierSet(text))
    except InvalidSpecifier as exc:
        raise fail(where, f"invalid {what} {text!r}: {first_line(exc)}") from None


def python_series(version: str, where: Origin | str) -> str:
    """The Python requirement implied by the interpreter a model was saved with:
    ``3.11.7`` -> ``==3.11.*``. Same minor series, any patch release: patch releases keep
    the ABI and pickle compatibility a saved model depends on, minor releases do not."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        raise fail(where, f"invalid Python version {version!r}") from None
    release = parsed.release[:2]
    return "==" + ".".join(str(part) for part in release) + ".*"
