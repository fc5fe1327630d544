"""conda ``environment.yml`` files, including the ``conda.yaml`` MLflow writes.

``dependencies:`` holds conda match specs and an optional ``pip:`` list. A conda spec is
converted to a PEP 440 specifier:

=================================  ======================  ==================================
conda                              PEP 440                 why
=================================  ======================  ==================================
``numpy``                          (any)
``numpy=1.26``                     ``==1.26.*``            conda's ``=`` is a prefix match
``numpy=1.26.4``                   ``==1.26.4.*``          (also matches ``1.26.4.1``)
``numpy==1.26.4``                  ``==1.26.4``            exact
``numpy=1.26.4=py311h_0``          ``==1.26.4``            with a build string conda is exact
``numpy 1.26.4 py311h_0``          ``==1.26.4``            the ``conda list`` form
``numpy>=1.24,<2``                 ``>=1.24,<2``
``numpy 1.26.*``                   ``==1.26.*``
``conda-forge::numpy=1.26``        ``==1.26.*``            the channel is dropped
``openssl=1.1.1w=h0``              ``===1.1.1w``           not PEP 440: arbitrary equality
=================================  ======================  ==================================

The build string is dropped. ``python`` becomes the Python requirement; ``cudatoolkit``,
``cuda-toolkit``, ``cuda-version``, ``cuda`` and ``pytorch-cuda`` become the CUDA
requirement (and the accelerator ``gpu``) instead of packages, since no Python environment
lists them. Other conda packages keep their conda names, canonicalised (conda and PyPI
names can differ: ``pytorch`` is ``torch`` on PyPI). Alternatives (``|``) and bracket
syntax (``numpy[version='>=1']``) are refused. The ``pip:`` list is read like a
requirements file, ``-r`` relative to the YAML file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from modelatlas.deps.model import Origin, PackageRequirement, Requirements
from modelatlas.deps.sources._base import display_name, fail, read_text, specifier_text
from modelatlas.deps.sources._yaml import compose, line_of, mapping, scalar, sequence
from modelatlas.deps.sources.requirements_txt import RequirementsReader, strip_comment

CUDA_PACKAGES = frozenset({"cudatoolkit", "cuda-toolkit", "cuda-version", "cuda", "pytorch-cuda"})
_SPEC_RE = re.compile(
    r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9._-]*)(?P<rest>.*)$"
)
_CLAUSE_RE = re.compile(r"^(?P<op>===|==|!=|~=|<=|>=|<|>|=)?\s*(?P<version>\S+)$")


@dataclass(frozen=True)
class CondaSpec:
    """One conda match spec: canonical name and PEP 440 specifier text."""

    name: str
    specifier: str


def parse_conda_env(path: Path, *, root: Path | None = None) -> Requirements:
    """The requirements an environment file declares. Origins name the file relative to
    ``root`` (default: its directory)."""
    root = root if root is not None else path.parent
    name = display_name(path, root)
    top = mapping(compose(read_text(path, name), name), name, "an environment file")
    node = top.get("dependencies")
    if node is None:
        return Requirements()
    python: tuple[str, Origin] | None = None
    cuda: list[str] = []
    packages: list[PackageRequirement] = []
    reader = RequirementsReader(root)
    for item in sequence(node, name, "dependencies"):
        origin = Origin(name, line_of(item))
        if isinstance(item, yaml.MappingNode):
            _read_pip_section(item, name, path, reader)
            continue
        text = scalar(item, name, "a dependency")
        if text is None:
            raise fail(origin, "empty dependency")
        spec = parse_conda_spec(text, origin)
        if spec.name == "python":
            python = (spec.specifier, origin) if spec.specifier else python
        elif spec.name in CUDA_PACKAGES:
            cuda += [spec.specifier] if spec.specifier else []
        else:
            packages.append(PackageRequirement(spec.name, spec.specifier, origin=origin))
    packages += reader.result().requirements
    cuda_spec = specifier_text(",".join(cuda), name) if cuda else None
    return Requirements(
        python=python[0] if python else None,
        python_origin=python[1] if python else None,
        packages=tuple(packages),
        cuda=cuda_spec,
        accelerator="gpu" if cuda_spec is not None else None,
    )


def _read_pip_section(
    node: yaml.MappingNode, name: str, path: Path, reader: RequirementsReader
) -> None:
    entries = mapping(node, name, "a dependency")
    for key, value in entries.items():
        if key != "pip":
            raise fail(f"{name}:{line_of(value)}", f"unknown dependency section {key!r}")
        lines: list[tuple[Origin, str]] = []
        for item in sequence(value, name, "pip"):
            text = scalar(item, name, "a pip requirement")
            text = strip_comment(text or "")
            if text:
                lines.append((Origin(name, line_of(item)), text))
        stack = ((path.resolve(), name),)
        reader.read_lines(lines, base=path.parent, constraint=False, stack=stack)


def parse_conda_spec(text: str, origin: Origin) -> CondaSpec:
    """One conda match spec (see the module docstring for the forms)."""
    match = _SPEC_RE.match(text.strip())
    if not match:
        raise fail(origin, f"invalid conda spec {text!r}")
    rest = match.group("rest").strip()
    if "|" in rest or rest.startswith("["):
        raise fail(origin, f"conda spec {text!r}: alternatives and [...] options are not read")
    name = canonicalize_name(match.group("name"))
    return CondaSpec(name, _conda_version(rest, text, origin))


def _conda_version(rest: str, text: str, origin: Origin) -> str:
    if not rest:
        return ""
    if rest.startswith("=") and not rest.startswith("=="):
        version, _, build = rest[1:].partition("=")
        # conda: '=1.2' is the prefix 1.2*, but '=1.2=build' pins exactly 1.2.
        clauses = [("==" if build else "=") + version.strip()]
    elif rest.startswith("=="):
        clauses = ["==" + rest[2:].partition("=")[0].strip()]
    elif rest[0].isdigit() or rest[0] == "*":
        clauses = [rest.split()[0]]  # 'VERSION [BUILD]', as conda list writes it
    else:
        clauses = re.sub(r"\s+", "", rest).split(",")
    converted = [_clause(clause, text, origin) for clause in clauses]
    return specifier_text(",".join(c for c in converted if c), origin)


def _clause(clause: str, text: str, origin: Origin) -> str:
    """One conda version clause as a PEP 440 specifier."""
    match = _CLAUSE_RE.match(clause)
    if not match:
        raise fail(origin, f"conda spec {text!r}: cannot read version {clause!r}")
    op, version = match.group("op") or "", match.group("version")
    if version == "*":
        return ""
    starred = version.endswith("*")
    if starred:
        version = version.rstrip("*").rstrip(".")
    if op == "=" or starred:  # a prefix match
        op = "!=" if op == "!=" else "=="
        candidate, exact = f"{op}{version}.*", f"==={version}" if op == "==" else ""
    elif op in ("", "=="):
        candidate, exact = f"=={version}", f"==={version}"
    else:
        candidate, exact = f"{op}{version}", ""
    for spec in (candidate, exact):
        if not spec:
            continue
        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            continue
        return spec
    raise fail(origin, f"conda spec {text!r}: version {version!r} is not a PEP 440 version")
