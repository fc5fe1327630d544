"""check(): one model version's requirements against one environment."""

from __future__ import annotations

import pytest

from modelatlas.deps.check import Violation, check, marker_environment
from modelatlas.deps.model import Environment, Origin, PackageRequirement, Requirements
from modelatlas.errors import InvalidInput

OWNER = "fraud/churn@7"


def req(
    name: str, spec: str = "", *, line: int = 3, marker: str | None = None
) -> PackageRequirement:
    return PackageRequirement(name, spec, marker=marker, origin=Origin("requirements.txt", line))


def env(**packages: str) -> Environment:
    return Environment("prod-serving", python="3.11.7", packages=dict(packages))


def messages(found: list[Violation]) -> list[str]:
    return [v.message for v in found]


def test_a_satisfying_environment_has_no_violations() -> None:
    wanted = Requirements(
        python=">=3.10,<3.13",
        packages=(req("numpy", "<2"), req("pandas", ">=2.2", line=4), req("pytz")),
        accelerator="cpu",
    )
    assert check(OWNER, wanted, env(numpy="1.26.4", pandas="2.2.2", pytz="2024.1")) == []


def test_a_violated_version_names_the_version_the_constraint_and_its_origin() -> None:
    found = check(OWNER, Requirements(packages=(req("numpy", "<2"),)), env(numpy="2.1.0"))
    assert found == [
        Violation(
            kind="package_version",
            subject="numpy",
            message="numpy 2.1.0 does not satisfy <2 (fraud/churn@7, requirements.txt:3)",
            origin=Origin("requirements.txt", 3),
            owner=OWNER,
        )
    ]


def test_a_missing_package_says_who_requires_what() -> None:
    found = check(OWNER, Requirements(packages=(req("numpy", "<2"),)), env(pandas="2.2.2"))
    assert [(v.kind, v.subject) for v in found] == [("package_missing", "numpy")]
    assert messages(found) == [
        "numpy is not installed; fraud/churn@7 requires numpy<2 (requirements.txt:3)"
    ]


def test_names_are_compared_canonically() -> None:
    wanted = Requirements(packages=(req("Python_DateUtil", ">=2.8"),))
    assert check(OWNER, wanted, env(**{"python-dateutil": "2.9.0"})) == []
    odd = Environment("hand-made", python="3.11.7", packages={"Python.DateUtil": "2.7"})
    assert messages(check(OWNER, wanted, odd)) == [
        "python-dateutil 2.7 does not satisfy >=2.8 (fraud/churn@7, requirements.txt:3)"
    ]


@pytest.mark.parametrize(
    "marker",
    ['python_version < "3.9"', 'sys_platform == "win32"', 'platform_machine == "arm64"'],
)
def test_a_requirement_whose_marker_is_false_for_the_environment_is_skipped(marker: str) -> None:
    wanted = Requirements(packages=(req("tomli", ">=2", marker=marker),))
    assert check(OWNER, wanted, env()) == []


def test_a_requirement_whose_marker_is_true_for_the_environment_is_checked() -> None:
    wanted = Requirements(
        packages=(
            req("uvloop", marker='sys_platform == "linux" and python_version >= "3.11"'),
            req("pywin32", marker='os_name == "nt"', line=4),
        )
    )
    assert messages(check(OWNER, wanted, env())) == [
        "uvloop is not installed; fraud/churn@7 requires uvloop (requirements.txt:3)"
    ]
    windows = Environment("desk", python="3.8.10", platform="win32", packages={"uvloop": "0.19"})
    assert messages(check(OWNER, wanted, windows)) == [
        "pywin32 is not installed; fraud/churn@7 requires pywin32 (requirements.txt:4)"
    ]


def test_markers_use_the_environments_python_not_this_interpreters() -> None:
    assert marker_environment("3.8.10", "win32", "AMD64") == {
        "python_version": "3.8",
        "python_full_version": "3.8.10",
        "implementation_version": "3.8.10",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "win32",
        "platform_system": "Windows",
        "platform_machine": "AMD64",
        "os_name": "nt",
        "platform_release": "",
        "platform_version": "",
        "extra": "",
    }
    old = Environment("legacy", python="3.8.10", packages={})
    wanted = Requirements(packages=(req("tomli", marker='python_version < "3.9"'),))
    assert [v.subject for v in check(OWNER, wanted, old)] == ["tomli"]


def test_with_an_unknown_python_a_python_marker_is_checked_rather_than_hidden() -> None:
    unknown = Environment("mystery", python=None, packages={})
    wanted = Requirements(packages=(req("tomli", marker='python_version < "3.9"'),))
    assert [v.kind for v in check(OWNER, wanted, unknown)] == ["package_missing"]


def test_a_python_mismatch_cites_the_python_origin() -> None:
    wanted = Requirements(python=">=3.12", python_origin=Origin("pyproject.toml", 5))
    found = check(OWNER, wanted, env())
    assert [(v.kind, v.message) for v in found] == [
        ("python", "python 3.11.7 does not satisfy >=3.12 (fraud/churn@7, pyproject.toml:5)")
    ]
    unknown = Environment("mystery", python=None)
    assert messages(check(OWNER, wanted, unknown)) == [
        "python is not available; fraud/churn@7 requires python>=3.12 (pyproject.toml:5)"
    ]


def test_accelerator_and_cuda_mismatches() -> None:
    wanted = Requirements(accelerator="gpu", cuda=">=12.1")
    cpu_box = env()
    assert [(v.kind, v.message) for v in check(OWNER, wanted, cpu_box)] == [
        ("accelerator", "accelerator cpu does not satisfy gpu (fraud/churn@7)"),
        ("cuda", "cuda is not available; fraud/churn@7 requires cuda>=12.1"),
    ]
    old_gpu = Environment("gpu-old", python="3.11.7", accelerator="gpu", cuda="11.8")
    assert messages(check(OWNER, wanted, old_gpu)) == [
        "cuda 11.8 does not satisfy >=12.1 (fraud/churn@7)"
    ]
    new_gpu = Environment("gpu-new", python="3.11.7", accelerator="gpu", cuda="12.4")
    assert check(OWNER, wanted, new_gpu) == []
    # A CPU model runs on any machine.
    assert check(OWNER, Requirements(accelerator="cpu"), new_gpu) == []


def test_the_image_is_checked_only_when_one_is_required() -> None:
    assert check(OWNER, Requirements(), env()) == []
    wanted = Requirements(image="ghcr.io/acme/serve:1.4")
    assert messages(check(OWNER, wanted, env())) == [
        "no image is set; fraud/churn@7 requires image ghcr.io/acme/serve:1.4"
    ]
    other = Environment("prod", python="3.11.7", image="ghcr.io/acme/serve:1.3")
    assert [v.kind for v in check(OWNER, wanted, other)] == ["image"]
    same = Environment("prod", python="3.11.7", image="ghcr.io/acme/serve:1.4")
    assert check(OWNER, wanted, same) == []


def test_an_invalid_installed_version_is_a_violation_not_a_crash() -> None:
    found = check(OWNER, Requirements(packages=(req("numpy", "<2"),)), env(numpy="banana"))
    assert [(v.kind, v.subject) for v in found] == [("package_version", "numpy")]
    assert messages(found) == [
        "numpy banana is not a valid version, so it cannot satisfy <2 "
        "(fraud/churn@7, requirements.txt:3)"
    ]
    # Without a specifier, presence is all that matters.
    assert check(OWNER, Requirements(packages=(req("numpy"),)), env(numpy="banana")) == []


def test_prerelease_installed_versions_are_judged_by_the_specifier() -> None:
    wanted = Requirements(packages=(req("numpy", ">=2"),))
    assert check(OWNER, wanted, env(numpy="2.1.0rc1")) == []


def test_violations_come_in_a_stable_order_all_of_them() -> None:
    wanted = Requirements(
        python="<3.11",
        packages=(req("numpy", "<2"), req("pandas", line=4)),
        accelerator="gpu",
    )
    found = check(OWNER, wanted, env(numpy="2.1.0"))
    assert [v.kind for v in found] == [
        "python",
        "accelerator",
        "package_version",
        "package_missing",
    ]


@pytest.mark.parametrize(
    ("wanted", "path"),
    [
        (Requirements(packages=(req("numpy", "<<2"),)), "/packages/0/specifier"),
        (Requirements(packages=(req("numpy", marker="python_version <"),)), "/packages/0/marker"),
        (Requirements(python="three"), "/python"),
    ],
)
def test_a_malformed_requirement_is_invalid_input_naming_the_field(
    wanted: Requirements, path: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check(OWNER, wanted, env(numpy="1.26.4"))
    assert [e.path for e in caught.value.errors] == [path]
