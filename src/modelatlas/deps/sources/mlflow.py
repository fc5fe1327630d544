"""MLflow model directories, as ``mlflow.<flavor>.save_model`` / ``log_model`` write them::

    model/
      MLmodel            flavors.python_function.python_version, .env -> the files below
      requirements.txt   pip requirements (preferred when present, as MLflow does)
      python_env.yaml    python: 3.11.7, build_dependencies: [...], dependencies: [-r ...]
      conda.yaml         a conda environment with a pip: list

Packages come from ``requirements.txt`` if present, else from ``python_env.yaml`` (its
``dependencies``; ``build_dependencies`` are pip/setuptools/wheel for building the
environment, not what the model needs), else from ``conda.yaml``; the ``env`` pointers in
``MLmodel`` name the last two when they are not the default names.

Python: MLflow records the interpreter the model was saved with (``3.11.7``), not a range.
The requirement is its minor series, ``==3.11.*``: patch releases keep the ABI and pickle
format a saved model depends on. It is taken from ``MLmodel``, else from
``python_env.yaml``'s ``python:`` (same rule), else from ``conda.yaml`` (conda rules).
Origins name files relative to the model directory.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from modelatlas.deps.model import Origin, Requirements
from modelatlas.deps.sources._base import display_name, fail, python_series, read_text
from modelatlas.deps.sources._yaml import compose, line_of, mapping, scalar, sequence
from modelatlas.deps.sources.conda import parse_conda_env
from modelatlas.deps.sources.requirements_txt import (
    RequirementsReader,
    parse_requirements_txt,
    strip_comment,
)

MLMODEL = "MLmodel"
_DEFAULT_ENV = {"virtualenv": "python_env.yaml", "conda": "conda.yaml"}


def read_mlflow_model(directory: Path) -> Requirements:
    """The requirements of the MLflow model saved in ``directory``."""
    mlmodel = directory / MLMODEL
    top = mapping(compose(read_text(mlmodel, MLMODEL), MLMODEL), MLMODEL, "MLmodel")
    pyfunc = _pyfunc(top)
    env_files = _env_files(pyfunc, directory)
    python: tuple[str, Origin] | None = None
    version_node = pyfunc.get("python_version")
    if version_node is not None:
        version = scalar(version_node, MLMODEL, "python_version")
        origin = Origin(MLMODEL, line_of(version_node))
        python = (python_series(version, origin), origin) if version else None

    requirements_txt = directory / "requirements.txt"
    venv, conda = env_files.get("virtualenv"), env_files.get("conda")
    from_venv = parse_python_env(venv, root=directory) if venv else None
    if requirements_txt.is_file():
        found = Requirements(packages=tuple(parse_requirements_txt(requirements_txt)))
    elif from_venv is not None:
        found = from_venv
    elif conda is not None:
        found = parse_conda_env(conda, root=directory)
    else:
        found = Requirements()
    if python is None and from_venv is not None and from_venv.python is not None:
        python = (from_venv.python, from_venv.python_origin or Origin("python_env.yaml"))
    if python is None:
        return found
    return replace(found, python=python[0], python_origin=python[1])


def parse_python_env(path: Path, *, root: Path | None = None) -> Requirements:
    """MLflow's ``python_env.yaml``: ``python:`` and the ``dependencies:`` pip lines."""
    root = root if root is not None else path.parent
    name = display_name(path, root)
    top = mapping(compose(read_text(path, name), name), name, "python_env.yaml")
    python: str | None = None
    python_origin: Origin | None = None
    if "python" in top:
        node = top["python"]
        python_origin = Origin(name, line_of(node))
        version = scalar(node, name, "python")
        python = python_series(version, python_origin) if version else None
    reader = RequirementsReader(root)
    if "dependencies" in top:
        lines = [
            (Origin(name, line_of(item)), strip_comment(scalar(item, name, "a dependency") or ""))
            for item in sequence(top["dependencies"], name, "dependencies")
        ]
        reader.read_lines(
            [(origin, text) for origin, text in lines if text],
            base=path.parent,
            constraint=False,
            stack=((path.resolve(), name),),
        )
    return Requirements(
        python=python,
        python_origin=python_origin if python else None,
        packages=reader.result().requirements,
    )


def _pyfunc(top: dict[str, yaml.Node]) -> dict[str, yaml.Node]:
    flavors = mapping(top.get("flavors"), MLMODEL, "flavors")
    return mapping(flavors.get("python_function"), MLMODEL, "flavors.python_function")


def _env_files(pyfunc: dict[str, yaml.Node], directory: Path) -> dict[str, Path]:
    """The environment files, by kind, that exist or that ``env`` points to. A pointer to a
    file that is not there is an error at its line."""
    pointers: dict[str, yaml.Node] = {}
    env = pyfunc.get("env")
    if isinstance(env, yaml.ScalarNode):  # MLflow < 2.0 wrote `env: conda.yaml`
        pointers["conda"] = env
    elif env is not None:
        pointers = mapping(env, MLMODEL, "flavors.python_function.env")
    files: dict[str, Path] = {}
    for kind, default in _DEFAULT_ENV.items():
        node = pointers.get(kind)
        target = scalar(node, MLMODEL, f"env.{kind}") if node is not None else None
        if node is None or target is None:
            if (directory / default).is_file():
                files[kind] = directory / default
            continue
        path = directory / target
        where = f"{MLMODEL}:{line_of(node)}"
        if Path(target).is_absolute() or ".." in Path(target).parts:
            raise fail(where, f"env.{kind} {target!r} must name a file inside the model")
        if not path.is_file():
            raise fail(where, f"env.{kind} names {target!r}, which is not in the model directory")
        files[kind] = path
    return files
