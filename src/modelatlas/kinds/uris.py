"""The URIs metadata may record: a scheme allow-list and no path tricks.

The registry never dereferences a recorded URI (it stores artifact bytes only when they
are uploaded, by digest), but clients do: the reconciler reads ``file:`` URIs on the
caller's machine, a UI turns URIs into links, a deployment tool fetches them. So a URI is
checked when it is written, and what could make a reader go somewhere other than the place
it names is refused:

* a scheme outside the allow-list (``javascript:``, ``data:``, ``gopher:``, ``ftp:`` ...);
* a ``..`` segment in any encoding (``%2e%2e``, ``%252e%252e``, mixed case, split by
  ``\\``, ``;`` or ``#``): the text is percent-decoded until it no longer changes;
* control characters (NUL, CR, LF ...) and backslashes, raw or encoded;
* credentials in the authority (``https://user:token@host``, ``s3://key@bucket``);
* for ``file:``, anything but an absolute local path (a host other than ``localhost``,
  ``;`` parameters or a ``#`` fragment that would hide part of a path).

Values without a scheme (a table name, ``owner/repo``, ``git@host:org/repo.git``) are kept
as written, under the same ``..``/control-character rules, and may not be absolute paths
(write ``file:///...``, so the reader knows it is a local file).

``file:`` is allowed by default: capture, ``modelatlas register`` and the reconciler record
and read local artifacts as ``file:`` URIs on the client's machine; the checks above keep
such a URI to the one absolute path it names. The allow-list is ``MODELATLAS_URI_SCHEMES``
(comma-separated); the service layer sets it per operation with :func:`scheme_policy`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Annotated
from urllib.parse import unquote, urlsplit

from pydantic import AfterValidator

from modelatlas.config import DEFAULT_URI_SCHEMES

MAX_URI = 2048
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SEPARATORS = re.compile(r"[/\\;#?]")
_USER_ONLY_SCHEMES = frozenset({"ssh", "git+ssh"})  # ssh://git@host names a login, not a secret

_policy: ContextVar[frozenset[str] | None] = ContextVar("modelatlas_uri_schemes", default=None)


def parse_schemes(text: str) -> frozenset[str]:
    """``"s3, gs,HTTPS"`` -> ``{"s3", "gs", "https"}``; a malformed entry is a ValueError."""
    schemes = frozenset(s.strip().lower() for s in text.split(",") if s.strip())
    bad = sorted(s for s in schemes if not _SCHEME.match(s))
    if bad:
        raise ValueError(f"not URI schemes: {', '.join(bad)}")
    return schemes


@lru_cache(maxsize=8)
def _from_environment(text: str) -> frozenset[str]:
    return parse_schemes(text)


def allowed_schemes() -> frozenset[str]:
    """The operation's allow-list (:func:`scheme_policy`), else ``MODELATLAS_URI_SCHEMES``."""
    current = _policy.get()
    if current is not None:
        return current
    return _from_environment(os.environ.get("MODELATLAS_URI_SCHEMES", DEFAULT_URI_SCHEMES))


@contextmanager
def scheme_policy(text: str) -> Iterator[None]:
    """Check URIs against ``text``'s schemes in this block (the registry's setting)."""
    token = _policy.set(_from_environment(text))
    try:
        yield
    finally:
        _policy.reset(token)


def _decoded(value: str) -> str:
    """Percent-decode until stable (``%252e`` -> ``%2e`` -> ``.``), at most a few rounds:
    a reader that decodes twice must not find a ``..`` the first check missed."""
    for _round in range(4):
        decoded = unquote(value, errors="strict")
        if decoded == value:
            return value
        value = decoded
    raise ValueError("is percent-encoded too many times over")


def _check_text(value: str) -> str:
    if len(value) > MAX_URI:
        raise ValueError(f"at most {MAX_URI} characters")
    if value != value.strip():
        # browsers drop leading blanks: " javascript:..." would run as javascript:
        raise ValueError("starts or ends with white space")
    try:
        plain = _decoded(value)
    except UnicodeDecodeError:
        raise ValueError("holds a percent-encoding that is not UTF-8") from None
    if _CONTROL.search(plain):
        raise ValueError("holds a control character (raw or percent-encoded)")
    if "\\" in plain:
        raise ValueError("holds a backslash (raw or percent-encoded): use '/'")
    if any(part.strip() == ".." for part in _SEPARATORS.split(plain)):
        raise ValueError("holds a '..' segment (raw or percent-encoded)")
    return plain


def _check_authority(scheme: str, value: str) -> None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # raises on a malformed port
    except ValueError:
        raise ValueError("is not a well-formed URI") from None
    if parts.password is not None or (
        parts.username is not None and scheme not in _USER_ONLY_SCHEMES
    ):
        raise ValueError("holds credentials in its authority: record the location only")
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError("a file: URI names a local path: file:///absolute/path")
        if not parts.path.startswith("/") or ";" in value or "#" in value or parts.query:
            raise ValueError("a file: URI is one absolute path, without ';', '?' or '#'")


def check_uri(value: str) -> str:
    """``value`` unchanged when it is an acceptable URI (or scheme-less location), else a
    ValueError saying why (pydantic reports it at the field's path)."""
    plain = _check_text(value)
    scheme, sep, _rest = value.partition(":")
    scheme = scheme.lower()
    if sep and _SCHEME.match(scheme) and not _scp_like(value):
        if scheme not in allowed_schemes():
            raise ValueError(f"scheme {scheme!r} is not allowed (MODELATLAS_URI_SCHEMES)")
        _check_authority(scheme, value)
        return value
    if plain.startswith("/"):
        raise ValueError("an absolute path: write it as a file:///... URI")
    return value


def _scp_like(value: str) -> bool:
    """git's ``user@host:path`` form has no scheme: the '@' comes before the ':'."""
    at, colon = value.find("@"), value.find(":")
    return 0 < at < colon


MAX_FILE_NAME = 255


def check_file_name(value: str) -> str:
    """An artifact's name is one file name: it becomes the name a download is saved under
    (never a path on the server, which comes from the digest alone)."""
    if not 1 <= len(value) <= MAX_FILE_NAME:
        raise ValueError(f"1-{MAX_FILE_NAME} characters")
    if _CONTROL.search(value) or "/" in value or "\\" in value:
        raise ValueError("one file name: no '/', '\\' or control characters")
    if value.strip(".") == "" or value != value.strip():
        raise ValueError("not '.', '..' or a name with leading or trailing white space")
    return value


Uri = Annotated[str, AfterValidator(check_uri)]
"""A metadata field holding a URI (or a scheme-less location), checked by :func:`check_uri`."""

FileName = Annotated[str, AfterValidator(check_file_name)]
"""A metadata field holding one file name (an artifact's ``name``)."""
