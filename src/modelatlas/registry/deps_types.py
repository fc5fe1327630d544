"""The wire shapes of the dependency operations (requirements, check, resolve, why): what
the API, the SDK and the CLI send and receive. The domain values they stand for live in
:mod:`modelatlas.deps.model`; the conversions are here, so every caller parses the same
way and errors name the same fields.

A package requirement is sent as a PEP 508 string (``"numpy>=1.24,<2"``) or, when it was
read from a file, as ``{"requirement": ..., "file": ..., "line": ...}`` so its origin is
kept: the server never reads a client's files. A registry asset requirement is a ref
without version followed by a PEP 440 specifier on the asset's integer version
(``feature:fraud/txn-aggregates>=2,<3``; no specifier means any version).
"""

from __future__ import annotations

import re
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict, Field

from modelatlas.deps.model import (
    AssetRequirement,
    Environment,
    Origin,
    PackageRequirement,
    Requirements,
)
from modelatlas.deps.schemas import compatible_with
from modelatlas.errors import InvalidInput
from modelatlas.refs import Ref

Accelerator = Literal["cpu", "gpu", "tpu"]
REQUEST = "request"  # the origin file of a requirement given in a request, not a file
_SPEC_START = re.compile(r"[<>=!~]")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class OriginOut(BaseModel):
    """Where a requirement was declared: ``file`` and 1-based ``line``, or ``request``."""

    file: str
    line: int | None = None


class DeclaredIn(_In):
    """A requirement with the file and line it was read from."""

    requirement: str = Field(min_length=1, max_length=4000)
    file: str | None = Field(default=None, max_length=500)
    line: int | None = Field(default=None, ge=1)
    hashes: list[str] = Field(default_factory=list, max_length=100)


Declared = str | DeclaredIn


class RequirementsIn(_In):
    """What a model version needs to run, as sent by a client."""

    python: str | None = Field(default=None, max_length=200,
                               description="a specifier on the Python version, e.g. >=3.10")
    python_origin: OriginOut | None = None
    packages: list[Declared] = Field(default_factory=list, max_length=5000,
                                     description="PEP 508 strings or {requirement, file, line}")
    image: str | None = Field(default=None, max_length=500)
    accelerator: Accelerator | None = None
    cuda: str | None = Field(default=None, max_length=200, description="a specifier, >=12.1")
    assets: list[Declared] = Field(
        default_factory=list, max_length=1000,
        description="registry assets: a ref without version and a specifier on its version",
    )
    input_schema: str | None = Field(default=None, max_length=500, description="schema ref@N")
    output_schema: str | None = Field(default=None, max_length=500)

    def to_domain(self, path: str = "") -> Requirements:
        """Parse into :class:`Requirements`; errors name the field under ``path``."""
        python = None
        if self.python is not None:
            python = specifier_text(self.python, f"{path}/python", what="Python specifier")
        cuda = None
        if self.cuda is not None:
            cuda = specifier_text(self.cuda, f"{path}/cuda", what="CUDA specifier")
        return Requirements(
            python=python,
            packages=tuple(_package(p, f"{path}/packages/{i}")
                           for i, p in enumerate(self.packages)),
            image=self.image or None,
            accelerator=self.accelerator,
            cuda=cuda,
            assets=tuple(asset_requirement(a, f"{path}/assets/{i}")
                         for i, a in enumerate(self.assets)),
            input_schema=_schema_ref(self.input_schema, f"{path}/input_schema"),
            output_schema=_schema_ref(self.output_schema, f"{path}/output_schema"),
            python_origin=_origin(self.python_origin) if python is not None else None,
        )

    @classmethod
    def from_domain(cls, requirements: Requirements) -> RequirementsIn:
        """What to send for requirements read locally (``deps.sources``), origins kept."""
        origin = requirements.python_origin
        return cls(
            python=requirements.python,
            python_origin=OriginOut(file=origin.file, line=origin.line) if origin else None,
            packages=[DeclaredIn(requirement=pep508_text(p), file=p.origin.file,
                                 line=p.origin.line, hashes=list(p.hashes))
                      for p in requirements.packages],
            image=requirements.image,
            accelerator=requirements.accelerator,
            cuda=requirements.cuda,
            assets=[DeclaredIn(requirement=f"{a.ref}{a.specifier}", file=a.origin.file,
                               line=a.origin.line) for a in requirements.assets],
            input_schema=requirements.input_schema,
            output_schema=requirements.output_schema,
        )


def _origin(origin: OriginOut | None) -> Origin:
    return Origin(origin.file, origin.line) if origin is not None else Origin(REQUEST)


def _declared(item: Declared) -> tuple[str, Origin, tuple[str, ...]]:
    if isinstance(item, str):
        return item, Origin(REQUEST), ()
    return item.requirement, Origin(item.file or REQUEST, item.line), tuple(item.hashes)


def _package(item: Declared, path: str) -> PackageRequirement:
    text, origin, hashes = _declared(item)
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        at = f" ({origin})" if origin.file != REQUEST else ""
        reason = str(exc).splitlines()[0] if str(exc) else "not PEP 508"
        raise InvalidInput.at(path, f"invalid requirement {text!r}{at}: {reason}") from None
    return PackageRequirement(
        name=canonicalize_name(req.name),
        specifier=str(req.specifier),
        extras=tuple(sorted({canonicalize_name(e) for e in req.extras})),
        marker=str(req.marker) if req.marker is not None else None,
        url=req.url,
        hashes=hashes,
        origin=origin,
    )


def specifier_text(text: str, path: str, *, what: str = "version specifier") -> str:
    """A PEP 440 specifier set in normal form (sorted, no spaces)."""
    try:
        return str(SpecifierSet(text))
    except InvalidSpecifier:
        raise InvalidInput.at(path, f"invalid {what} {text!r}") from None


def asset_requirement(item: Declared, path: str) -> AssetRequirement:
    """``feature:fraud/txn-aggregates>=2,<3`` as an :class:`AssetRequirement`."""
    text, origin, _ = _declared(item)
    text = text.strip()
    ref_text, compatible, rest = text.partition(" compatible-with ")
    if compatible:
        return _compatible_requirement(ref_text, f"compatible-with {rest}", origin, path)
    match = _SPEC_START.search(text)
    ref_text, spec = (text[: match.start()], text[match.start():]) if match else (text, "")
    ref = Ref.parse(ref_text.strip(), path=path)
    if ref.version is not None:
        raise InvalidInput.at(path, f"write the asset without a version and constrain it "
                                    f"instead: {ref.with_version(None)}=={ref.version}")
    if ref.kind not in ASSET_KINDS:
        raise InvalidInput.at(path, f"a model version can require a {' or '.join(ASSET_KINDS)}"
                                    f", not a {ref.kind}")
    return AssetRequirement(str(ref), specifier_text(spec, path) if spec else "", origin)


def _compatible_requirement(ref_text: str, constraint: str, origin: Origin,
                            path: str) -> AssetRequirement:
    """``schema:fraud/transactions compatible-with 3 [(mode)]``: any version of the schema
    that readers of version 3 can use (modelatlas.deps.schemas.CompatibleWith)."""
    ref = Ref.parse(ref_text.strip(), path=path)
    if ref.kind != "schema" or ref.version is not None:
        raise InvalidInput.at(path, "compatible-with constrains a schema written without a "
                                    "version, e.g. schema:fraud/transactions compatible-with 3")
    try:
        parsed = compatible_with(constraint)
    except ValueError as exc:
        raise InvalidInput.at(path, str(exc)) from None
    if parsed is None:
        raise InvalidInput.at(path, "write compatible-with N or compatible-with N (mode)")
    return AssetRequirement(str(ref), str(parsed), origin)


# The kinds a model version may ``require`` (modelatlas.relations).
ASSET_KINDS = ("feature", "schema", "environment", "dataset")


def _schema_ref(text: str | None, path: str) -> str | None:
    if not text:
        return None
    ref = Ref.parse(text, path=path)
    if ref.kind != "schema" or ref.version is None:
        raise InvalidInput.at(path, "a schema ref with its version, e.g. schema:fraud/tx@3")
    return str(ref)


def pep508_text(req: PackageRequirement) -> str:
    """A requirement as PEP 508 text that parses back to ``req`` (with a URL, the marker
    needs a space before ``;`` or it would be read as part of the URL)."""
    extras = f"[{','.join(req.extras)}]" if req.extras else ""
    text = f"{req.name}{extras} @ {req.url} " if req.url else f"{req.name}{extras}{req.specifier}"
    if req.marker:
        return f"{text.rstrip()} ; {req.marker}" if req.url else f"{text}; {req.marker}"
    return text.rstrip()


# --- what the registry answers ------------------------------------------------------------


class PackageOut(BaseModel):
    requirement: str = Field(description="the requirement in PEP 508 normal form")
    name: str
    specifier: str = ""
    extras: list[str] = Field(default_factory=list)
    marker: str | None = None
    url: str | None = None
    hashes: list[str] = Field(default_factory=list)
    origin: OriginOut


class AssetOut(BaseModel):
    requirement: str
    ref: str = Field(description="the asset without version")
    specifier: str = ""
    origin: OriginOut


class ModelRequirements(BaseModel):
    """What a model version declares it needs, normalised, each with its origin."""

    ref: str
    python: str | None = None
    python_origin: OriginOut | None = None
    packages: list[PackageOut] = Field(default_factory=list)
    image: str | None = None
    accelerator: Accelerator | None = None
    cuda: str | None = None
    assets: list[AssetOut] = Field(default_factory=list)
    input_schema: str | None = None
    output_schema: str | None = None

    @classmethod
    def of(cls, ref: str, req: Requirements) -> ModelRequirements:
        return cls(
            ref=ref, python=req.python, python_origin=origin_out(req.python_origin),
            packages=[PackageOut(requirement=pep508_text(p), name=p.name, specifier=p.specifier,
                                 extras=list(p.extras), marker=p.marker, url=p.url,
                                 hashes=list(p.hashes), origin=_out(p.origin))
                      for p in req.packages],
            image=req.image, accelerator=req.accelerator, cuda=req.cuda,
            assets=[AssetOut(requirement=f"{a.ref}{a.specifier}", ref=a.ref,
                             specifier=a.specifier, origin=_out(a.origin)) for a in req.assets],
            input_schema=req.input_schema, output_schema=req.output_schema,
        )


def _out(origin: Origin) -> OriginOut:
    return OriginOut(file=origin.file, line=origin.line)


def origin_out(origin: Origin | None) -> OriginOut | None:
    return _out(origin) if origin is not None else None


class EnvironmentIn(_In):
    """An ad-hoc target: a Python and installed versions (e.g. from ``pip freeze``)."""

    name: str = Field(default="inline", min_length=1, max_length=200)
    python: str | None = Field(default=None, max_length=50, description="a full version, 3.11.7")
    packages: dict[str, str] = Field(default_factory=dict, max_length=20_000,
                                     description="canonical name -> installed version")
    platform: str = Field(default="linux", max_length=50, description="a sys.platform value")
    machine: str = Field(default="x86_64", max_length=50)
    accelerator: Accelerator = "cpu"
    cuda: str | None = Field(default=None, max_length=50)
    image: str | None = Field(default=None, max_length=500)

    def to_domain(self) -> Environment:
        return Environment(**self.model_dump())


class EnvironmentOut(BaseModel):
    name: str
    python: str | None = None
    platform: str
    machine: str
    accelerator: Accelerator
    cuda: str | None = None
    image: str | None = None
    packages: int = Field(description="how many installed packages the target lists")

    @classmethod
    def of(cls, env: Environment) -> EnvironmentOut:
        return cls(name=env.name, python=env.python, platform=env.platform,
                   machine=env.machine, accelerator=env.accelerator, cuda=env.cuda,
                   image=env.image, packages=len(env.packages))


class CheckRequest(_In):
    """Check ``ref`` against a registered ``target`` (an environment, or a deployment with a
    ``requires`` edge to one) or an inline ``environment``: exactly one of the two."""

    ref: str = Field(max_length=500, description="a model_version ref")
    target: str | None = Field(default=None, max_length=500)
    environment: EnvironmentIn | None = None


class ViolationOut(BaseModel):
    kind: str = Field(description="package_missing, package_version, python, accelerator, "
                                  "cuda, image, asset")
    subject: str
    message: str
    origin: OriginOut | None = None
    owner: str


class CheckResult(BaseModel):
    ref: str
    target: str
    environment: EnvironmentOut
    compatible: bool
    violations: list[ViolationOut] = Field(default_factory=list)


class ResolveRequest(_In):
    refs: list[str] = Field(min_length=1, max_length=100, description="model_version refs")
    index_snapshot: str | None = Field(default=None, description="an index snapshot's text")
    index_file: str = Field(default="index.txt", max_length=500,
                            description="how conflicts cite the snapshot's lines")
    python: str | None = Field(default=None, max_length=50)
    platform: str = Field(default="linux", max_length=50)
    machine: str = Field(default="x86_64", max_length=50)


class DemandOut(BaseModel):
    """One constraint and who asked for it (see :class:`modelatlas.deps.resolve.Demand`)."""

    requirement: str
    origin: OriginOut | None = None
    owners: list[str] = Field(default_factory=list)
    parent: str | None = Field(default=None, description="the release whose dependency it is")
    text: str = Field(description="the constraint as the explanations print it")


class ConflictOut(BaseModel):
    kind: str
    package: str
    constraints: list[DemandOut]
    models: list[str]
    known_versions: list[str]
    message: str


class ResolutionOut(BaseModel):
    ok: bool
    python: str
    platform: str
    machine: str
    pins: dict[str, str] = Field(default_factory=dict)
    required_by: dict[str, list[DemandOut]] = Field(default_factory=dict)
    conflicts: list[ConflictOut] = Field(default_factory=list)
    unknown_dependencies: list[str] = Field(default_factory=list)
    direct_urls: dict[str, str] = Field(default_factory=dict)


class WhyRequest(_In):
    ref: str = Field(max_length=500)
    package: str = Field(min_length=1, max_length=300)
    index_snapshot: str | None = None
    index_file: str = Field(default="index.txt", max_length=500)
    python: str | None = Field(default=None, max_length=50)
    platform: str = Field(default="linux", max_length=50)
    machine: str = Field(default="x86_64", max_length=50)


class WhyResult(BaseModel):
    """Why ``package`` is part of what ``ref`` needs: its own declarations of it, and each
    chain (from one of its own requirements down to the package) through the dependencies
    of the releases a resolution chose."""

    ref: str
    package: str
    pinned: str | None = Field(default=None, description="the version a resolution chose")
    direct: list[PackageOut] = Field(default_factory=list)
    chains: list[list[DemandOut]] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list,
                                 description="why no resolution exists, if none does")

