"""in-toto Statement v1: validation of what a verified envelope carries, and the SLSA
provenance v1 predicate the registry writes for a training run.

A Statement is read only from bytes a DSSE verification returned. It must be a JSON object
(duplicate keys refused: two parsers must never see two different documents) with
``_type`` ``https://in-toto.io/Statement/v1``, a non-empty ``subject`` list whose every entry
has a digest set of known algorithms with lowercase-hex values of the algorithm's length,
and a ``predicateType`` on the allow-list.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelatlas.errors import FieldError, InvalidInput
from modelatlas.integrity.manifest import PREDICATE_TYPE as MODEL_SIGNING_PREDICATE

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://modelatlas.dev/training-run/v1"
BUILDER_ID = "https://modelatlas.dev/registry"
ALLOWED_PREDICATES = frozenset({SLSA_PROVENANCE_V1, MODEL_SIGNING_PREDICATE})

# hex length of each digest algorithm accepted in a subject (in-toto digest set names)
DIGEST_HEX_LENGTHS = {
    "sha256": 64, "sha384": 96, "sha512": 128, "sha224": 56, "sha512_224": 56,
    "sha512_256": 64, "sha3_224": 56, "sha3_256": 64, "sha3_384": 96, "sha3_512": 128,
    "sha1": 40, "gitCommit": 40, "gitTree": 40,
}
_HEX = frozenset("0123456789abcdef")
MAX_SUBJECTS = 10_000


class StatementInvalid(InvalidInput):
    """A verified payload that is not an acceptable in-toto Statement, or one about no
    artifact the registry knows."""

    code = "statement_invalid"
    title = "Unacceptable in-toto Statement"
    remedy = "Attest an in-toto Statement v1 whose subject digest is the artifact's root digest."


@dataclass(frozen=True)
class Statement:
    subjects: tuple[tuple[str, dict[str, str]], ...]  # (name, digest set)
    predicate_type: str
    predicate: dict[str, Any]

    def digests(self) -> list[tuple[str, str]]:
        """Every (algorithm, value) any subject names."""
        return [(alg, value) for _, digest in self.subjects for alg, value in digest.items()]


def _bad(path: str, message: str) -> StatementInvalid:
    return StatementInvalid(f"statement {path}: {message}", errors=[FieldError(path, message)])


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key " + next(k for k in keys if keys.count(k) > 1))
    return dict(pairs)


def parse_statement(
    payload: bytes, *, allowed: Collection[str] = ALLOWED_PREDICATES, path: str = "/statement"
) -> Statement:
    """Validate a Statement from verified payload bytes."""
    try:
        doc = json.loads(payload.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(path, f"not UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise _bad(path, "a JSON object")
    if doc.get("_type") != STATEMENT_TYPE:
        raise _bad(f"{path}/_type", f"must be {STATEMENT_TYPE}")
    subjects = doc.get("subject")
    if not isinstance(subjects, list) or not subjects or len(subjects) > MAX_SUBJECTS:
        raise _bad(f"{path}/subject", f"a non-empty list (at most {MAX_SUBJECTS})")
    parsed = tuple(_subject(s, f"{path}/subject/{i}") for i, s in enumerate(subjects))
    predicate_type = doc.get("predicateType")
    if not isinstance(predicate_type, str) or predicate_type not in allowed:
        raise _bad(f"{path}/predicateType",
                   f"{predicate_type!r} is not one of {', '.join(sorted(allowed))}")
    predicate = doc.get("predicate", {})
    if not isinstance(predicate, dict):
        raise _bad(f"{path}/predicate", "an object")
    return Statement(parsed, predicate_type, predicate)


def _subject(item: Any, path: str) -> tuple[str, dict[str, str]]:
    if not isinstance(item, dict):
        raise _bad(path, "an object with a digest")
    name = item.get("name", "")
    if not isinstance(name, str):
        raise _bad(f"{path}/name", "a string")
    digest = item.get("digest")
    if not isinstance(digest, dict) or not digest:
        raise _bad(f"{path}/digest", "a non-empty digest set")
    for alg, value in digest.items():
        if alg not in DIGEST_HEX_LENGTHS:
            raise _bad(f"{path}/digest/{alg}", f"unknown algorithm (one of "
                                               f"{', '.join(sorted(DIGEST_HEX_LENGTHS))})")
        want = DIGEST_HEX_LENGTHS[alg]
        if not isinstance(value, str) or len(value) != want or not set(value) <= _HEX:
            raise _bad(f"{path}/digest/{alg}", f"{want} lowercase hex digits")
    return name, dict(digest)


def matching_subject(statement: Statement, digests: Mapping[str, str]) -> tuple[str, str]:
    """The (algorithm, value) by which the statement is about an artifact with ``digests``;
    raise when no subject names it."""
    for alg, value in statement.digests():
        if digests.get(alg) == value:
            return alg, value
    known = ", ".join(f"{a}:{v}" for a, v in sorted(digests.items())) or "none recorded"
    raise _bad("/statement/subject",
               f"no subject digest matches the artifact's recorded digest ({known})")


# building ---------------------------------------------------------------------------------
def statement(subject_name: str, digest: Mapping[str, str], predicate_type: str,
              predicate: Mapping[str, Any]) -> dict[str, Any]:
    return {"_type": STATEMENT_TYPE,
            "subject": [{"name": subject_name, "digest": dict(digest)}],
            "predicateType": predicate_type, "predicate": dict(predicate)}


@dataclass(frozen=True)
class Material:
    """A resolved dependency of a training run: a dataset, code or environment."""

    uri: str
    digest: Mapping[str, str]
    name: str = ""

    def descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {"uri": self.uri}
        if self.digest:
            out["digest"] = dict(self.digest)
        if self.name:
            out["name"] = self.name
        return out


def slsa_provenance(
    *,
    run: str | None,
    parameters: Mapping[str, Any],
    materials: Sequence[Material],
    builder_id: str = BUILDER_ID,
    started_on: str | None = None,
    finished_on: str | None = None,
) -> dict[str, Any]:
    """A SLSA provenance v1 predicate for a training run: the run's parameters are the
    external parameters; its datasets, code and environment the resolved dependencies."""
    metadata: dict[str, Any] = {}
    if run:
        metadata["invocationId"] = run
    if started_on:
        metadata["startedOn"] = started_on
    if finished_on:
        metadata["finishedOn"] = finished_on
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": dict(parameters),
            "internalParameters": {},
            "resolvedDependencies": [m.descriptor() for m in materials],
        },
        "runDetails": {"builder": {"id": builder_id}, "metadata": metadata},
    }
