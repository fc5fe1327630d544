"""The checkpoint signing key: read from a file, or generated into it on first use.

The file holds one line, the signer key in golang.org/x/mod/sumdb/note form. It is
created with mode 0600 and ``O_EXCL``, so two processes starting at once cannot each
write a different key: the loser reads the winner's.
"""

from __future__ import annotations

import os
from pathlib import Path

from modelatlas.errors import FieldError, Unavailable
from modelatlas.integrity.note import Signer


def load_signer(path: Path, *, name: str) -> Signer:
    """The key in ``path``; a new key named ``name`` if the file does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        signer = Signer.generate(name)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "w") as out:
                out.write(f"{signer}\n")
            return signer
    try:
        return Signer.parse(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise Unavailable(f"cannot read the audit signing key {path}: {exc}",
                          errors=[FieldError("MODELATLAS_AUDIT_KEY_FILE", "unreadable")]) from None
