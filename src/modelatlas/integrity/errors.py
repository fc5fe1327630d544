"""Errors of the integrity domain (they extend the tree drawn in ``modelatlas.errors``)::

    ModelAtlasError
    └── VerificationFailed            422  verification_failed   (.first_bad_seq when known)
        ├── ProofInvalid              422  proof_invalid
        ├── LogInconsistent           409  log_inconsistent      (the log forked or rewound)
        └── KeyMismatch               422  key_mismatch          (not signed by a trusted key)

Verification raises, never returns a bool: a caller that forgets to check cannot mistake
a failure for success.
"""

from __future__ import annotations

from modelatlas.errors import FieldError, ModelAtlasError


class VerificationFailed(ModelAtlasError):
    code = "verification_failed"
    status = 422
    title = "Verification failed"
    remedy = ("the audit log or a signed checkpoint does not match: compare with an "
              "exported copy or a witness, and investigate the first bad sequence number")

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None,
                 first_bad_seq: int | None = None) -> None:
        super().__init__(detail, errors=errors)
        self.first_bad_seq = first_bad_seq


class ProofInvalid(VerificationFailed):
    code = "proof_invalid"
    title = "Proof rejected"
    remedy = "the proof, index, sizes or roots do not belong together: fetch a fresh proof"


class LogInconsistent(VerificationFailed):
    """A signed checkpoint does not extend one verified earlier: the log was rewritten,
    rolled back or forked. The checkpoint held before is kept (docs/audit.md)."""

    code = "log_inconsistent"
    status = 409
    title = "The audit log is inconsistent with a checkpoint held earlier"
    remedy = ("do not trust this registry's history: keep the checkpoint held (in the trust "
              "directory) as evidence, compare with witnesses and exports, and tell the "
              "registry's operators")


class KeyMismatch(VerificationFailed):
    """A checkpoint is not signed by the key pinned for the log, or lacks a required
    witness's cosignature."""

    code = "key_mismatch"
    title = "Checkpoint not signed by a trusted key"
    remedy = ("if the registry's key was rotated on purpose, check the new key out of band "
              "and pin it (`modelatlas audit check --public-key KEY --repin`); otherwise "
              "treat the registry as compromised")
