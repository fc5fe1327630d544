"""Readers of the files that declare what a model needs: pip requirements files and
``pip freeze`` output, ``pyproject.toml``, conda environment files and MLflow model
directories. Pure functions of the files: no registry, no network.

Every requirement keeps its :class:`~modelatlas.deps.model.Origin` (file relative to the
directory read, 1-based line where it starts). Bad input raises
:class:`~modelatlas.errors.InvalidInput` whose message and single field error name
``file:line``; a file over 5 MiB raises :class:`~modelatlas.errors.PayloadTooLarge`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from modelatlas.deps.model import Requirements
from modelatlas.deps.sources._base import MAX_FILE_BYTES, MAX_INCLUDE_DEPTH, fail, python_series
from modelatlas.deps.sources.conda import parse_conda_env, parse_conda_spec
from modelatlas.deps.sources.mlflow import MLMODEL, parse_python_env, read_mlflow_model
from modelatlas.deps.sources.pyproject import parse_pyproject, poetry_constraint
from modelatlas.deps.sources.requirements_txt import (
    RequirementsFile,
    parse_pip_freeze,
    parse_requirements_file,
    parse_requirements_txt,
)

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_INCLUDE_DEPTH",
    "RequirementsFile",
    "parse_conda_env",
    "parse_conda_spec",
    "parse_pip_freeze",
    "parse_pyproject",
    "parse_python_env",
    "parse_requirements_file",
    "parse_requirements_txt",
    "poetry_constraint",
    "python_series",
    "read_mlflow_model",
    "read_requirements",
]


def read_requirements(path: Path, *, extras: Iterable[str] = ()) -> Requirements:
    """Read whatever ``path`` is: an MLflow model directory (or its ``MLmodel`` file),
    ``pyproject.toml`` (with ``extras``), MLflow's ``python_env.yaml``, a conda environment
    (``*.yml``/``*.yaml``), and anything else as a pip requirements file."""
    extras = tuple(extras)
    if path.is_dir():
        if not (path / MLMODEL).is_file():
            raise fail(
                path.name or str(path),
                "a directory is read only as an MLflow model (it has no MLmodel file); "
                "name the requirements file instead",
            )
        return read_mlflow_model(path)
    if not path.exists():
        raise fail(path.name or str(path), "no such file")
    if path.name == MLMODEL:
        return read_mlflow_model(path.parent)
    if extras and path.name != "pyproject.toml":
        raise fail(path.name, "extras are read only from pyproject.toml")
    if path.name == "pyproject.toml":
        return parse_pyproject(path, extras=extras)
    if path.name == "python_env.yaml":
        return parse_python_env(path)
    if path.suffix in (".yml", ".yaml"):
        return parse_conda_env(path)
    return Requirements(packages=tuple(parse_requirements_txt(path)))
