"""The readers of requirement files: real-world-shaped files under ``data/`` for what is
accepted, small files written to ``tmp_path`` for each kind of bad input, with the exact
``file:line`` every error must name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modelatlas.deps.model import Origin, PackageRequirement
from modelatlas.deps.sources import (
    MAX_FILE_BYTES,
    MAX_INCLUDE_DEPTH,
    parse_conda_env,
    parse_conda_spec,
    parse_pip_freeze,
    parse_pyproject,
    parse_python_env,
    parse_requirements_file,
    parse_requirements_txt,
    poetry_constraint,
    read_mlflow_model,
    read_requirements,
)
from modelatlas.errors import InvalidInput, ModelAtlasError, PayloadTooLarge

DATA = Path(__file__).parent / "data"


def brief(reqs: tuple[PackageRequirement, ...] | list[PackageRequirement]) -> list[str]:
    """Each requirement as ``str`` plus where it came from: one readable line to compare."""
    return [f"{req} @ {req.origin}" for req in reqs]


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_at(exc: pytest.ExceptionInfo[InvalidInput], where: str, *words: str) -> None:
    """The error names ``where`` in its detail and as its one field path, with ``words``."""
    assert [e.path for e in exc.value.errors] == [where]
    assert exc.value.detail.startswith(f"{where}: ")
    for word in words:
        assert word in exc.value.detail


# --- requirements.txt ----------------------------------------------------------------------


def test_requirements_txt_with_includes_options_hashes_markers_and_continuations() -> None:
    parsed = parse_requirements_file(DATA / "pip" / "requirements.txt")
    assert brief(parsed.requirements) == [
        "packaging>=23 @ common.txt:1",
        "pyyaml>=6.0 @ requirements/base.txt:3",
        "numpy==1.26.4 @ requirements.txt:10",
        "pandas[parquet,performance]<3,>=2.1 @ requirements.txt:13",
        "scikit-learn~=1.3.2 @ requirements.txt:14",
        'torch==2.1.2+cu121; sys_platform == "linux" and platform_machine == "x86_64"'
        " @ requirements.txt:15",
        'tomli>=2.0.1; python_version < "3.11" @ requirements.txt:16',
        'uvloop; sys_platform != "win32" @ requirements.txt:17',
        "mylib @ git+https://github.com/acme/mylib.git@v1.4.0 @ requirements.txt:18",
        "featurelib @ git+https://github.com/acme/featurelib.git@0a1b2c3#egg=featurelib"
        " @ requirements.txt:19",
        "requests @ https://files.pythonhosted.org/packages/70/8e/requests-2.31.0-py3-none-any.whl"
        " @ requirements.txt:20",
        'pillow>=10; python_version >= "3.10" @ requirements.txt:21',
    ]
    numpy = parsed.requirements[2]
    assert numpy.hashes == (
        "sha256:056046085a9c8ce2d47643b27b6754ed4f5a82d29e169b0a419196fac8fc8baf",
        "sha256:b01693d2c3b3aaf50c983fabb43018d905747b5ced3aab2b3c2611e3326a0df1",
    )
    assert brief(parsed.constraints) == ["urllib3<2 @ constraints.txt:2"]
    # The list form leaves the constraints out.
    assert parse_requirements_txt(DATA / "pip" / "requirements.txt") == list(parsed.requirements)


def test_origins_are_relative_to_the_root_given(tmp_path: Path) -> None:
    reqs = parse_requirements_txt(DATA / "pip" / "requirements" / "base.txt", root=DATA)
    assert [str(r.origin) for r in reqs] == ["pip/common.txt:1", "pip/requirements/base.txt:3"]


def test_a_file_included_twice_is_read_once(tmp_path: Path) -> None:
    write(tmp_path, "common.txt", "numpy\n")
    write(tmp_path, "a.txt", "-r common.txt\n")
    top = write(tmp_path, "requirements.txt", "-r a.txt\n--requirement=common.txt\npandas\n")
    assert brief(parse_requirements_txt(top)) == [
        "numpy @ common.txt:1",
        "pandas @ requirements.txt:3",
    ]


def test_short_options_with_attached_values_and_quoted_options(tmp_path: Path) -> None:
    write(tmp_path, "more.txt", "scipy\n")
    top = write(
        tmp_path,
        "requirements.txt",
        "-rmore.txt\n-i https://mirror.example/simple --extra-index-url 'https://x.example/s'\n"
        "--only-binary=:all: --prefer-binary\n"
        "lxml --config-settings=--build-option=--with-xslt\n",
    )
    assert brief(parse_requirements_txt(top)) == ["scipy @ more.txt:1", "lxml @ requirements.txt:4"]


def test_sdist_path_and_editable_with_extras(tmp_path: Path) -> None:
    top = write(
        tmp_path,
        "requirements.txt",
        "./vendor/fraud_rules-2.0.1.tar.gz\n"
        "-e git+https://github.com/acme/feats.git#egg=feats[Spark]\n",
    )
    reqs = parse_requirements_txt(top)
    assert [(r.name, r.url, r.extras) for r in reqs] == [
        ("fraud-rules", "./vendor/fraud_rules-2.0.1.tar.gz", ()),
        ("feats", "git+https://github.com/acme/feats.git#egg=feats", ("spark",)),
    ]


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("numpy\nnumpy>>2\n", "requirements.txt:2", ["invalid requirement 'numpy>>2'", "Expected"]),
        ('# c\n\nfoo; bar == "1"\n', "requirements.txt:3", ["invalid requirement", "marker"]),
        (
            "pandas\nnumpy>=1 \\\n  ; os_nam == 'nt'\n",
            "requirements.txt:2",
            ["invalid requirement"],
        ),
        ("numpy==1.0 --hash=md5:abc\n", "requirements.txt:1", ["sha256, sha384, sha512"]),
        ("numpy==1.0 --hash=sha256:abc\n", "requirements.txt:1", ["64 hex digits"]),
        ("x\n--hash=sha256:" + "a" * 64 + "\n", "requirements.txt:2", ["--hash must follow"]),
        ("--frobnicate\n", "requirements.txt:1", ["unknown option '--frobnicate'"]),
        ("numpy --index-url https://x\n", "requirements.txt:1", ["cannot follow a requirement"]),
        ("--index-url\n", "requirements.txt:1", ["needs a value"]),
        ("--pre=yes\n", "requirements.txt:1", ["takes no value"]),
        ("--extra-index-url 'https://x\n", "requirements.txt:1", ["cannot read options"]),
        ("\n-e ./src/featurelib\n", "requirements.txt:2", ["does not name its package", "#egg="]),
        (".\n", "requirements.txt:1", ["cannot tell the package name of '.'", "name @ ."]),
        ("https://x.example/pkg.tar.gz\n", "requirements.txt:1", ["cannot tell the package name"]),
        ("./pkg.whl ; os_nam == 'nt'\n", "requirements.txt:1", ["invalid marker"]),
        ("-r https://example.com/reqs.txt\n", "requirements.txt:1", ["is a URL"]),
        ("numpy\n\n-r missing.txt\n", "requirements.txt:3", ["'missing.txt' not found"]),
    ],
)
def test_bad_requirement_lines_name_file_and_line(
    tmp_path: Path, text: str, where: str, words: list[str]
) -> None:
    path = write(tmp_path, "requirements.txt", text)
    with pytest.raises(InvalidInput) as exc:
        parse_requirements_txt(path)
    error_at(exc, where, *words)


def test_an_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, "reqs/base.txt", "# base\nscipy==\n")
    top = write(tmp_path, "requirements.txt", "-r reqs/base.txt\n")
    with pytest.raises(InvalidInput) as exc:
        parse_requirements_txt(top)
    error_at(exc, "reqs/base.txt:2", "invalid requirement 'scipy=='")


def test_include_cycle_is_reported_at_the_include_that_closes_it(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "numpy\n-r b.txt\n")
    write(tmp_path, "b.txt", "# loops back\npandas\n-c a.txt\n")
    top = write(tmp_path, "requirements.txt", "-r a.txt\n")
    with pytest.raises(InvalidInput) as exc:
        parse_requirements_txt(top)
    error_at(exc, "b.txt:3", "include cycle: requirements.txt -> a.txt -> b.txt -> a.txt")


def test_a_file_including_itself_is_a_cycle(tmp_path: Path) -> None:
    top = write(tmp_path, "requirements.txt", "numpy\n-r ./requirements.txt\n")
    with pytest.raises(InvalidInput) as exc:
        parse_requirements_txt(top)
    error_at(exc, "requirements.txt:2", "include cycle")


def test_includes_nest_at_most_the_limit(tmp_path: Path) -> None:
    def chain(hops: int) -> Path:
        for index in range(hops):
            write(tmp_path, f"r{index}.txt", f"-r r{index + 1}.txt\n")
        write(tmp_path, f"r{hops}.txt", "numpy\n")
        return tmp_path / "r0.txt"

    assert [r.origin for r in parse_requirements_txt(chain(MAX_INCLUDE_DEPTH))] == [
        Origin(f"r{MAX_INCLUDE_DEPTH}.txt", 1)
    ]
    with pytest.raises(InvalidInput) as exc:
        parse_requirements_txt(chain(MAX_INCLUDE_DEPTH + 1))
    error_at(exc, f"r{MAX_INCLUDE_DEPTH}.txt:1", "deeper than 20")


def test_files_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    with pytest.raises(PayloadTooLarge) as exc:
        parse_requirements_txt(path)
    assert exc.value.errors[0].path == "requirements.txt"
    with pytest.raises(PayloadTooLarge):
        parse_pip_freeze("x==1\n" * (MAX_FILE_BYTES // 5 + 1))


def test_bytes_that_are_not_utf8_are_reported_on_their_line(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(
        "\ufeffnumpy\npandas\nscipy # caf\xe9\n".encode("utf-8").replace(b"\xc3\xa9", b"\xe9")
    )
    with pytest.raises(InvalidInput) as exc:
        parse_requirements_txt(path)
    error_at(exc, "requirements.txt:3", "not UTF-8")


def test_missing_top_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_requirements_txt(tmp_path / "nope.txt")
    error_at(exc, "nope.txt", "no such file")
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(InvalidInput) as exc:
        parse_requirements_txt(tmp_path / "dir.txt")
    error_at(exc, "dir.txt", "directory")


# --- pip freeze ----------------------------------------------------------------------------


def test_pip_freeze_output() -> None:
    reqs = parse_pip_freeze((DATA / "pip" / "freeze.txt").read_text(), file="freeze.txt")
    assert brief(reqs) == [
        "certifi @ file:///croot/certifi_1700501669400/work/certifi @ freeze.txt:1",
        "charset-normalizer==3.3.2 @ freeze.txt:2",
        "fraud-features @ /home/ana/src/fraud-features @ freeze.txt:4",
        "mlutils @ git+https://github.com/acme/mlutils.git@4f2a9c1e0b7d#egg=mlutils @ freeze.txt:5",
        "idna==3.6 @ freeze.txt:6",
        "joblib==1.3.2 @ freeze.txt:7",
        "numpy==1.26.2 @ freeze.txt:8",
        "scikit-learn==1.3.2 @ freeze.txt:9",
        "scipy==1.11.4 @ freeze.txt:10",
        "threadpoolctl==3.2.0 @ freeze.txt:11",
    ]


def test_pip_freeze_skips_warnings_and_comments() -> None:
    text = (
        "WARNING: Ignoring invalid distribution -orch (/venv/lib/site-packages)\n"
        "## !! Could not determine repository location\n"
        "numpy==1.26.2\r\n"
    )
    assert brief(parse_pip_freeze(text)) == ["numpy==1.26.2 @ pip freeze:3"]


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("numpy==1.26.2\nscipy=1.11\n", "pip freeze:2", ["invalid requirement 'scipy=1.11'"]),
        ("numpy==1\n-r other.txt\n", "pip freeze:2", ["not read from pip freeze"]),
        ("# Editable install\n-e /src/x\n", "pip freeze:2", ["does not name its package"]),
    ],
)
def test_bad_pip_freeze_lines(text: str, where: str, words: list[str]) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_pip_freeze(text)
    error_at(exc, where, *words)


# --- pyproject.toml ------------------------------------------------------------------------


def test_pep621_pyproject_with_extras_expanding_the_project_itself() -> None:
    path = DATA / "pyproject" / "pyproject.toml"
    base = parse_pyproject(path)
    assert base.python == "<3.13,>=3.10"
    assert base.python_origin == Origin("pyproject.toml", 9)
    assert brief(base.packages) == [
        "numpy<2,>=1.24 @ pyproject.toml:11",
        "pandas[parquet]>=2.1 @ pyproject.toml:12",
        'tomli>=2; python_version < "3.11" @ pyproject.toml:13',
        'torch>=2.1; sys_platform == "linux" @ pyproject.toml:14',
    ]
    full = parse_pyproject(path, extras=["All"])
    assert brief(full.packages[4:]) == [
        "cupy-cuda12x>=12 @ pyproject.toml:18",
        "fastapi>=0.110 @ pyproject.toml:20",
        "uvicorn[standard]>=0.27 @ pyproject.toml:21",
    ]


def test_poetry_pyproject_constraints_become_pep440() -> None:
    path = DATA / "poetry" / "pyproject.toml"
    reqs = parse_pyproject(path)
    assert (reqs.python, reqs.python_origin) == ("<4,>=3.10", Origin("pyproject.toml", 8))
    assert brief(reqs.packages) == [
        "numpy<2,>=1.26 @ pyproject.toml:9",
        "pandas[performance]<2.2,>=2.1.4 @ pyproject.toml:10",
        "lightgbm==4.1.0 @ pyproject.toml:11",
        'tomli<3,>=2.0; python_full_version < "3.11" @ pyproject.toml:13',
        "mlutils @ git+https://github.com/acme/mlutils.git@v0.9.1 @ pyproject.toml:14",
    ]
    explained = parse_pyproject(path, extras=["explain"])
    assert "shap<0.46,>=0.44 @ pyproject.toml:12" in brief(explained.packages)


@pytest.mark.parametrize(
    ("constraint", "pep440"),
    [
        ("^1.2.3", "<2,>=1.2.3"),
        ("^0.2.3", "<0.3,>=0.2.3"),
        ("^0.0.3", "<0.0.4,>=0.0.3"),
        ("^0", "<1,>=0"),
        ("~1.2.3", "<1.3,>=1.2.3"),
        ("~1", "<2,>=1"),
        ("~=1.2", "~=1.2"),
        ("1.2.*", "==1.2.*"),
        (">= 1.2, < 2", "<2,>=1.2"),
        ("*", ""),
    ],
)
def test_poetry_constraints(constraint: str, pep440: str) -> None:
    assert poetry_constraint(constraint, "f") == pep440


def test_dynamic_dependencies_from_setuptools_files(tmp_path: Path) -> None:
    write(tmp_path, "requirements.in", "# runtime\nnumpy>=1.26\n")
    path = write(
        tmp_path,
        "pyproject.toml",
        '[project]\nname = "m"\ndynamic = ["dependencies"]\n\n'
        '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.in"]}\n',
    )
    assert brief(parse_pyproject(path).packages) == ["numpy>=1.26 @ requirements.in:2"]


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (
            '[project]\nname = "m"\ndependencies = [\n  "numpy",\n  "pandas>>2",\n]\n',
            "pyproject.toml:5",
            ["invalid requirement 'pandas>>2'"],
        ),
        (
            '[project]\nname = "m"\ndependencies = ["numpy", "x; foo == \'1\'"]\n',
            "pyproject.toml:3",
            ["invalid requirement"],
        ),
        (
            '[project]\nname = "m"\n\nrequires-python = ">=3.10,<<4"\n',
            "pyproject.toml:4",
            ["invalid requires-python"],
        ),
        (
            '[project]\nname = "m"\ndependencies = "numpy"\n',
            "pyproject.toml:3",
            ["must be a list of strings"],
        ),
        ('[project]\nname = "m"\ndependencies = [\n  "numpy",\n', "pyproject.toml:5", ["TOML"]),
        ('[project]\nname = "m"\ndynamic = ["dependencies"]\n', "pyproject.toml:3", ["dynamic"]),
        (
            '[tool.poetry.dependencies]\npython = "^3.10"\nnumpy = "^1.2 || ^2.0"\n',
            "pyproject.toml:3",
            ["'||'"],
        ),
        (
            '[tool.poetry.dependencies]\nnumpy = [{version = "^1"}, {version = "^2"}]\n',
            "pyproject.toml:2",
            ["list of constraints"],
        ),
        ('[tool.poetry.dependencies]\nnumpy = "^one"\n', "pyproject.toml:2", ["invalid version"]),
        ("[tool.black]\nline-length = 88\n", "pyproject.toml", ["no [project] table"]),
    ],
)
def test_bad_pyproject(tmp_path: Path, text: str, where: str, words: list[str]) -> None:
    path = write(tmp_path, "pyproject.toml", text)
    with pytest.raises(InvalidInput) as exc:
        parse_pyproject(path)
    error_at(exc, where, *words)


def test_unknown_extra_is_an_error_naming_the_table() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_pyproject(DATA / "pyproject" / "pyproject.toml", extras=["cuda"])
    error_at(exc, "pyproject.toml:17", "no extra 'cuda'", "all, gpu, serve")


# --- conda ---------------------------------------------------------------------------------


def test_conda_environment_with_channels_builds_cuda_and_pip_section() -> None:
    reqs = parse_conda_env(DATA / "conda" / "environment.yml")
    assert (reqs.python, reqs.python_origin) == ("==3.11.*", Origin("environment.yml", 7))
    assert (reqs.cuda, reqs.accelerator) == ("==12.1.*", "gpu")
    assert brief(reqs.packages) == [
        "numpy<2,>=1.24 @ environment.yml:8",
        "pandas==2.1.* @ environment.yml:9",
        "scikit-learn==1.3.2 @ environment.yml:10",
        "pytorch==2.1.2 @ environment.yml:11",
        "openssl===1.1.1w @ environment.yml:13",
        "libgcc-ng==13.2.0 @ environment.yml:14",
        "pip @ environment.yml:15",
        "shap>=0.44 @ environment.yml:18",
        'tomli>=2; python_version < "3.11" @ environment.yml:19',
        "mlflow-skinny==2.9.2 @ requirements-extra.txt:1",
    ]


@pytest.mark.parametrize(
    ("spec", "name", "specifier"),
    [
        ("numpy", "numpy", ""),
        ("numpy=1.26", "numpy", "==1.26.*"),
        ("numpy=1.26.4", "numpy", "==1.26.4.*"),
        ("numpy==1.26.4", "numpy", "==1.26.4"),
        ("numpy=1.26.4=py311h64a7726_0", "numpy", "==1.26.4"),
        ("numpy 1.26.*", "numpy", "==1.26.*"),
        ("numpy >=1.24, <2", "numpy", "<2,>=1.24"),
        ("numpy=1.26*", "numpy", "==1.26.*"),
        ("numpy!=1.25.*", "numpy", "!=1.25.*"),
        ("conda-forge/linux-64::Python_Dateutil=2.8", "python-dateutil", "==2.8.*"),
        ("jpeg=9e", "jpeg", "===9e"),
        ("numpy=*", "numpy", ""),
    ],
)
def test_conda_specs(spec: str, name: str, specifier: str) -> None:
    parsed = parse_conda_spec(spec, Origin("environment.yml", 1))
    assert (parsed.name, parsed.specifier) == (name, specifier)


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("dependencies:\n  - numpy\n  - numpy[version='>=1']\n", "environment.yml:3", ["[...]"]),
        ("dependencies:\n  - numpy 1.2|1.3\n", "environment.yml:2", ["alternatives"]),
        ("dependencies:\n  - openssl>=1.1.1w\n", "environment.yml:2", ["not a PEP 440"]),
        ("dependencies:\n  - ''\n", "environment.yml:2", ["invalid conda spec"]),
        ("dependencies:\n  - ~\n", "environment.yml:2", ["empty dependency"]),
        (
            "name: x\ndependencies:\n  - pip:\n    - numpy\n    - scipy>>1\n",
            "environment.yml:5",
            ["invalid requirement 'scipy>>1'"],
        ),
        ("dependencies:\n  - pip:\n    - -r missing.txt\n", "environment.yml:3", ["not found"]),
        ("dependencies:\n  - npm:\n    - left-pad\n", "environment.yml:3", ["unknown dependency"]),
        ("dependencies: numpy\n", "environment.yml:1", ["must be a list"]),
        ("name: x\ndependencies:\n  - numpy\n - pandas\n", "environment.yml:4", ["invalid YAML"]),
        ("name: [x\n", "environment.yml:2", ["invalid YAML"]),
        ("name: x\n\x07\n", "environment.yml:2", ["invalid YAML"]),
        ("- numpy\n", "environment.yml:1", ["must be a mapping"]),
    ],
)
def test_bad_conda_env(tmp_path: Path, text: str, where: str, words: list[str]) -> None:
    path = write(tmp_path, "environment.yml", text)
    with pytest.raises(InvalidInput) as exc:
        parse_conda_env(path)
    error_at(exc, where, *words)


# --- MLflow --------------------------------------------------------------------------------


def test_mlflow_model_prefers_requirements_txt_and_python_minor_series() -> None:
    reqs = read_mlflow_model(DATA / "mlflow_model")
    assert (reqs.python, reqs.python_origin) == ("==3.11.*", Origin("MLmodel", 10))
    assert brief(reqs.packages) == [
        "mlflow==2.9.2 @ requirements.txt:1",
        "cloudpickle==3.0.0 @ requirements.txt:2",
        "numpy==1.26.2 @ requirements.txt:3",
        "scikit-learn==1.3.2 @ requirements.txt:4",
        "scipy==1.11.4 @ requirements.txt:5",
    ]


def copy_model(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATA / "mlflow_model", tmp_path / "model"))


def test_mlflow_model_without_requirements_txt_reads_python_env(tmp_path: Path) -> None:
    model = copy_model(tmp_path)
    write(model, "python_env.yaml", "python: 3.10.13\ndependencies:\n- numpy==1.26.2\n")
    (model / "requirements.txt").unlink()
    (model / "MLmodel").write_text(
        (model / "MLmodel").read_text().replace("    python_version: 3.11.7\n", "")
    )
    reqs = read_mlflow_model(model)
    assert (reqs.python, reqs.python_origin) == ("==3.10.*", Origin("python_env.yaml", 1))
    assert brief(reqs.packages) == ["numpy==1.26.2 @ python_env.yaml:3"]
    assert parse_python_env(model / "python_env.yaml").python == "==3.10.*"


def test_old_mlflow_model_with_only_conda_yaml(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(DATA / "mlflow_model" / "conda.yaml", model / "conda.yaml")
    write(
        model,
        "MLmodel",
        "flavors:\n  python_function:\n    env: conda.yaml\n"
        "    loader_module: mlflow.sklearn\n    python_version: 3.8.10\n",
    )
    reqs = read_mlflow_model(model)
    assert reqs.python == "==3.8.*"
    assert brief(reqs.packages)[:2] == [
        "pip<=23.3.1 @ conda.yaml:5",
        "mlflow==2.9.2 @ conda.yaml:7",
    ]


def test_mlflow_python_env_include_of_a_missing_file(tmp_path: Path) -> None:
    model = copy_model(tmp_path)
    (model / "requirements.txt").unlink()
    with pytest.raises(InvalidInput) as exc:
        read_mlflow_model(model)
    error_at(exc, "python_env.yaml:7", "'requirements.txt' not found")


@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        (
            "virtualenv: python_env.yaml",
            "virtualenv: env/venv.yaml",
            "MLmodel:6",
            ["env.virtualenv names 'env/venv.yaml'"],
        ),
        ("conda: conda.yaml", "conda: ../../conda.yaml", "MLmodel:5", ["inside the model"]),
        (
            "python_version: 3.11.7",
            "python_version: three",
            "MLmodel:10",
            ["invalid Python version 'three'"],
        ),
        # PyYAML reports where it gave up: the first ':' inside the unclosed '['.
        ("flavors:\n", "flavors: [\n", "MLmodel:4", ["invalid YAML", "expected ',' or ']'"]),
    ],
)
def test_bad_mlmodel(tmp_path: Path, old: str, new: str, where: str, words: list[str]) -> None:
    model = copy_model(tmp_path)
    text = (model / "MLmodel").read_text()
    assert old in text
    (model / "MLmodel").write_text(text.replace(old, new))
    with pytest.raises(InvalidInput) as exc:
        read_mlflow_model(model)
    error_at(exc, where, *words)


# --- dispatch and robustness ---------------------------------------------------------------


def test_read_requirements_dispatches_on_the_path() -> None:
    assert read_requirements(DATA / "mlflow_model").python == "==3.11.*"
    assert read_requirements(DATA / "mlflow_model" / "MLmodel").python == "==3.11.*"
    assert read_requirements(DATA / "mlflow_model" / "python_env.yaml").python == "==3.11.*"
    assert read_requirements(DATA / "mlflow_model" / "conda.yaml").python == "==3.11.7.*"
    assert read_requirements(DATA / "conda" / "environment.yml").cuda == "==12.1.*"
    assert (
        len(read_requirements(DATA / "pyproject" / "pyproject.toml", extras=["gpu"]).packages) == 5
    )
    assert read_requirements(DATA / "pip" / "requirements.txt").packages[0].name == "packaging"


def test_read_requirements_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as exc:
        read_requirements(DATA / "pip")
    error_at(exc, "pip", "no MLmodel file")
    with pytest.raises(InvalidInput) as exc:
        read_requirements(tmp_path / "requirements.txt")
    error_at(exc, "requirements.txt", "no such file")
    with pytest.raises(InvalidInput) as exc:
        read_requirements(DATA / "pip" / "requirements.txt", extras=["gpu"])
    error_at(exc, "requirements.txt", "only from pyproject.toml")


GARBAGE = [
    b"\x00\x01\x02\xff\xfe",
    b"[[[\n{{{\n",
    b"key: [unclosed\n",
    b"dependencies:\n  - {pip: 3}\n",
    b"project = 1\n",
    b"[project]\ndependencies = [1, 2]\n",
    b"-r\n",
    b"\\\n\\\n",
    b"flavors: 7\n",
    b"tool = 1\n",
    b'[project]\ndynamic = "dependencies"\n',
    b'[tool.poetry.dependencies]\nx = {version = "1", extras = 5}\n',
    b"flavors:\n  python_function:\n    env: [1]\n    python_version: {a: 1}\n",
    b"dependencies:\n  - [numpy]\n",
]


@pytest.mark.parametrize(
    "name", ["requirements.txt", "pyproject.toml", "environment.yml", "MLmodel"]
)
@pytest.mark.parametrize("content", GARBAGE)
def test_garbage_never_escapes_as_a_raw_exception(
    tmp_path: Path, name: str, content: bytes
) -> None:
    (tmp_path / name).write_bytes(content)
    try:
        read_requirements(tmp_path / name)
    except ModelAtlasError as exc:
        assert exc.errors and exc.errors[0].path.startswith(name)
