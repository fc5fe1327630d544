"""Errors of the integrity domain (they extend the tree drawn in ``modelatlas.errors``)::

    ModelAtlasError
    └── VerificationFailed            422  verification_failed   (.first_bad_seq when known)
        └── ProofInvalid              422  proof_invalid

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
