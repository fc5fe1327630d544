"""resolve(): one set of package versions for several co-deployed model versions, and the
package index it chooses from."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from modelatlas.deps.index import PackageIndex
from modelatlas.deps.model import Environment, Origin, PackageRequirement, Requirements
from modelatlas.deps.resolve import Conflict, Demand, resolve
from modelatlas.errors import InvalidInput

SNAPSHOT = """\
# a small slice of PyPI
numpy 1.24.4
numpy 1.26.4
numpy 2.1.0
numpy 2.2.0rc1
pandas 2.1.0 numpy>=1.22 | sqlalchemy>=2; extra == "sql"
pandas 2.2.2 numpy>=1.26 | pytz>=2020.1 | tzdata>=2022.7; sys_platform == "win32"
pytz 2023.3
pytz 2024.1   # newest
sqlalchemy 2.0.30
tzdata 2024.1
tomli 2.0.1
"""


def index() -> PackageIndex:
    return PackageIndex.parse_snapshot(SNAPSHOT, file="index.txt")


def model(
    label: str, *reqs: tuple[str, str, str, int], python: str | None = None
) -> tuple[str, Requirements]:
    """``(label, Requirements)`` from ``(requirement, marker, file, line)`` tuples."""
    packages = []
    for text, marker, file, line in reqs:
        parsed = Requirement(text)
        packages.append(
            PackageRequirement(
                parsed.name,
                str(parsed.specifier),
                extras=tuple(sorted(parsed.extras)),
                marker=marker or None,
                origin=Origin(file, line),
            )
        )
    return label, Requirements(python=python, packages=tuple(packages))


# --- the index -----------------------------------------------------------------------------


def test_the_snapshot_lists_releases_newest_first_with_their_dependencies() -> None:
    idx = index()
    assert [str(v) for v in idx.versions("numpy")] == ["2.2.0rc1", "2.1.0", "1.26.4", "1.24.4"]
    assert [str(v) for v in idx.versions("PyTZ")] == ["2024.1", "2023.3"]
    pandas = idx.release("pandas", Version("2.2.2"))
    assert pandas is not None and pandas.requires_known
    assert [str(r) for r in pandas.requires] == [
        "numpy>=1.26",
        "pytz>=2020.1",
        'tzdata>=2022.7; sys_platform == "win32"',
    ]
    assert {r.origin for r in pandas.requires} == {Origin("index.txt", 7)}
    assert idx.versions("nonexistent") == []
    assert len(idx) == 11 and "tomli" in idx


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("numpy", "expected 'name version [requirement | ...]'"),
        ("numpy one.two", "invalid version 'one.two' of numpy"),
        ("-numpy- 1.0", "invalid package name '-numpy-'"),
        ("pandas 2.2.2 numpy>=>1", "invalid requirement 'numpy>=>1'"),
        ("pandas 2.2.2 numpy>=1 | | pytz", "empty requirement"),
        ("pandas 2.2.2 numpy; python_version <", "invalid requirement"),
    ],
)
def test_a_bad_snapshot_line_is_invalid_input_at_file_and_line(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PackageIndex.parse_snapshot(f"# header\nnumpy 1.26.4\n{text}\n", file="snap.txt")
    [error] = caught.value.errors
    assert error.path == "snap.txt:3"
    assert error.message.startswith(reason)


def test_every_bad_line_is_reported_at_once_including_repeats() -> None:
    with pytest.raises(InvalidInput) as caught:
        PackageIndex.parse_snapshot("numpy 1.0\nbad\nnumpy 1.0.0\n", file="s.txt")
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("s.txt:2", "expected 'name version [requirement | ...]'"),
        ("s.txt:3", "numpy 1.0.0 is listed again (first at line 1)"),
    ]


def test_load_snapshot_reads_a_file_and_cites_its_path(tmp_path: Path) -> None:
    path = tmp_path / "index.txt"
    path.write_text("numpy 1.26.4\npandas 2.2.2 numpy>=1.26\n", encoding="utf-8")
    idx = PackageIndex.load_snapshot(path)
    pandas = idx.release("pandas", Version("2.2.2"))
    assert pandas is not None and pandas.requires[0].origin == Origin(str(path), 2)
    with pytest.raises(InvalidInput):
        PackageIndex.load_snapshot(tmp_path / "missing.txt")


def test_observed_environments_add_versions_without_dependencies_and_merge_keeps_known_ones() -> (
    None
):
    observed = PackageIndex.from_environments(
        [
            Environment("a", packages={"numpy": "1.26.4", "scikit-learn": "1.5.0"}),
            Environment("b", packages={"numpy": "1.25.0", "weird": "not-a-version"}),
        ]
    )
    assert [str(v) for v in observed.versions("numpy")] == ["1.26.4", "1.25.0"]
    assert "weird" not in observed
    merged = observed.merge(index())
    assert [str(v) for v in merged.versions("numpy")] == [
        "2.2.0rc1",
        "2.1.0",
        "1.26.4",
        "1.25.0",
        "1.24.4",
    ]
    # The snapshot's 1.26.4 (dependencies known) wins over the observed one, whichever order.
    for idx in (merged, index().merge(observed)):
        numpy = idx.release("numpy", Version("1.26.4"))
        assert numpy is not None and numpy.requires_known
    observed_only = merged.release("numpy", Version("1.25.0"))
    assert observed_only is not None and not observed_only.requires_known


# --- resolving -----------------------------------------------------------------------------


def test_a_shared_resolution_picks_the_newest_compatible_versions() -> None:
    result = resolve(
        [
            model("fraud/churn@7", ("numpy>=1.24", "", "requirements.txt", 1)),
            model("risk/score@2", ("numpy<2.2", "", "pyproject.toml", 12), ("pytz", "", "x", 2)),
        ],
        index(),
        python="3.11.7",
    )
    assert result.ok
    # 2.2.0rc1 is newer but a prerelease nobody asked for.
    assert result.pins == {"numpy": "2.1.0", "pytz": "2024.1"}
    assert result.required_by["numpy"] == (
        Demand("numpy>=1.24", Origin("requirements.txt", 1), ("fraud/churn@7",)),
        Demand("numpy<2.2", Origin("pyproject.toml", 12), ("risk/score@2",)),
    )


def test_a_prerelease_is_chosen_when_a_requirement_names_one() -> None:
    result = resolve([model("m@1", ("numpy>=2.2.0rc1", "", "r.txt", 1))], index())
    assert result.pins == {"numpy": "2.2.0rc1"}


def test_transitive_dependencies_come_from_the_snapshot_with_their_origin() -> None:
    result = resolve([model("fraud/churn@7", ("pandas", "", "requirements.txt", 2))], index())
    assert result.ok
    assert result.pins == {"numpy": "2.1.0", "pandas": "2.2.2", "pytz": "2024.1"}
    assert [str(d) for d in result.required_by["numpy"]] == [
        "numpy>=1.26 (required by pandas 2.2.2, index.txt:7; via fraud/churn@7)"
    ]
    assert result.unknown_dependencies == ()


def test_markers_are_evaluated_for_the_target_platform() -> None:
    on_windows = resolve(
        [
            model(
                "m@1", ("pandas", "", "r.txt", 1), ("tomli", 'python_version < "3.11"', "r.txt", 2)
            )
        ],
        index(),
        python="3.10.4",
        platform="win32",
    )
    assert on_windows.pins == {
        "numpy": "2.1.0",
        "pandas": "2.2.2",
        "pytz": "2024.1",
        "tomli": "2.0.1",
        "tzdata": "2024.1",
    }
    on_linux = resolve(
        [
            model(
                "m@1", ("pandas", "", "r.txt", 1), ("tomli", 'python_version < "3.11"', "r.txt", 2)
            )
        ],
        index(),
        python="3.11.7",
    )
    assert on_linux.pins == {"numpy": "2.1.0", "pandas": "2.2.2", "pytz": "2024.1"}


def test_a_direct_clash_between_two_models_names_both_with_origins() -> None:
    result = resolve(
        [
            model("fraud/churn@7", ("numpy<2", "", "requirements.txt", 3)),
            model("risk/score@2", ("numpy>=2.0", "", "pyproject.toml", 12)),
            model("ads/ctr@1", ("pytz", "", "requirements.txt", 1)),
        ],
        index(),
    )
    assert not result.ok and result.pins == {}
    assert result.conflicts == (
        Conflict(
            kind="clash",
            package="numpy",
            constraints=(
                Demand("numpy<2", Origin("requirements.txt", 3), ("fraud/churn@7",)),
                Demand("numpy>=2.0", Origin("pyproject.toml", 12), ("risk/score@2",)),
            ),
            models=("fraud/churn@7", "risk/score@2"),
            known_versions=("2.2.0rc1", "2.1.0", "1.26.4", "1.24.4"),
            message=(
                "numpy: numpy<2 (fraud/churn@7, requirements.txt:3) conflicts with "
                "numpy>=2.0 (risk/score@2, pyproject.toml:12); "
                "known versions: 2.2.0rc1, 2.1.0, 1.26.4, 1.24.4"
            ),
        ),
    )


def test_a_clash_through_a_dependency_traces_it_back_to_the_model() -> None:
    result = resolve(
        [
            model("fraud/churn@7", ("pandas==2.2.2", "", "requirements.txt", 2)),
            model("risk/score@2", ("numpy<1.25", "", "pyproject.toml", 12)),
        ],
        index(),
    )
    [conflict] = result.conflicts
    assert conflict.models == ("fraud/churn@7", "risk/score@2")
    assert conflict.message == (
        "numpy: numpy<1.25 (risk/score@2, pyproject.toml:12) conflicts with "
        "numpy>=1.26 (required by pandas 2.2.2, index.txt:7; via fraud/churn@7); "
        "known versions: 2.2.0rc1, 2.1.0, 1.26.4, 1.24.4"
    )


def test_the_explanation_is_minimal_and_keeps_every_model_with_the_same_constraint() -> None:
    result = resolve(
        [
            model("a@1", ("numpy<2", "", "a.txt", 1), ("pytz<2024", "", "a.txt", 2)),
            model("b@1", ("numpy>=1.24", "", "b.txt", 1), ("numpy>=2", "", "b.txt", 2)),
            model("c@1", ("numpy<2", "", "c.txt", 1)),
        ],
        index(),
    )
    [conflict] = result.conflicts
    # numpy>=1.24 is compatible with everything else: it is not part of the clash.
    assert [str(d) for d in conflict.constraints] == [
        "numpy<2 (a@1, a.txt:1)",
        "numpy>=2 (b@1, b.txt:2)",
        "numpy<2 (c@1, c.txt:1)",
    ]
    assert conflict.models == ("a@1", "b@1", "c@1")
    assert conflict.message == (
        "numpy: numpy<2 (a@1, a.txt:1), numpy>=2 (b@1, b.txt:2) and numpy<2 (c@1, c.txt:1) "
        "cannot all hold; known versions: 2.2.0rc1, 2.1.0, 1.26.4, 1.24.4"
    )


def test_when_every_release_of_a_dependency_fails_the_clash_still_names_both_models() -> None:
    idx = PackageIndex.parse_snapshot(
        "numpy 1.24.4\nnumpy 1.26.4\npandas 2.2.2 numpy>=1.26\npandas 2.1.0 numpy>=1.25\n",
        file="index.txt",
    )
    result = resolve(
        [
            model("fraud/churn@7", ("pandas", "", "requirements.txt", 2)),
            model("risk/score@2", ("numpy<1.25", "", "pyproject.toml", 12)),
        ],
        idx,
    )
    [conflict] = result.conflicts
    assert (conflict.kind, conflict.package) == ("clash", "numpy")
    assert conflict.models == ("fraud/churn@7", "risk/score@2")
    assert str(conflict.constraints[0]) == "numpy<1.25 (risk/score@2, pyproject.toml:12)"
    assert all(d.owners == ("fraud/churn@7",) for d in conflict.constraints[1:])
    assert {d.parent for d in conflict.constraints[1:]} <= {"pandas 2.2.2", "pandas 2.1.0"}


def test_a_resolution_that_needs_too_many_rounds_gives_up_with_a_reason() -> None:
    result = resolve([model("m@1", ("pandas", "", "r.txt", 1))], index(), max_rounds=1)
    assert [(c.kind, c.models) for c in result.conflicts] == [("too_deep", ("m@1",))]
    assert result.conflicts[0].message.startswith("gave up after 1 rounds")


def test_backtracking_finds_an_older_release_whose_dependencies_fit() -> None:
    result = resolve(
        [
            model("fraud/churn@7", ("pandas", "", "requirements.txt", 2)),
            model("risk/score@2", ("numpy<1.25", "", "pyproject.toml", 12)),
        ],
        index(),
    )
    assert result.ok
    assert result.pins == {"numpy": "1.24.4", "pandas": "2.1.0"}


def test_an_unknown_package_and_an_impossible_version_are_explained() -> None:
    unknown = resolve([model("m@1", ("torch>=2", "", "r.txt", 4))], index())
    assert [(c.kind, c.message) for c in unknown.conflicts] == [
        ("unknown_package", "no known version of torch; required by torch>=2 (m@1, r.txt:4)")
    ]
    too_new = resolve([model("m@1", ("numpy>=3", "", "r.txt", 1))], index())
    assert [(c.kind, c.message) for c in too_new.conflicts] == [
        (
            "no_matching_version",
            "no known version of numpy satisfies numpy>=3 (m@1, r.txt:1); "
            "known versions: 2.2.0rc1, 2.1.0, 1.26.4, 1.24.4",
        )
    ]


def test_extras_pull_in_the_extras_dependencies_at_the_same_version() -> None:
    result = resolve([model("m@1", ("pandas[sql]<2.2", "", "r.txt", 1))], index())
    assert result.pins == {"numpy": "2.1.0", "pandas": "2.1.0", "sqlalchemy": "2.0.30"}
    assert [str(d) for d in result.required_by["sqlalchemy"]] == [
        "sqlalchemy>=2 (required by pandas[sql] 2.1.0, index.txt:6; via m@1)"
    ]
    without = resolve([model("m@1", ("pandas<2.2", "", "r.txt", 1))], index())
    assert "sqlalchemy" not in without.pins


def test_pinned_releases_known_only_from_environments_are_flagged() -> None:
    idx = index().merge(
        PackageIndex.from_environments([Environment("e", packages={"pip": "24.0"})])
    )
    result = resolve([model("m@1", ("pip", "", "r.txt", 1), ("tomli", "", "r.txt", 2))], idx)
    assert result.pins == {"pip": "24.0", "tomli": "2.0.1"}
    assert result.unknown_dependencies == ("pip 24.0",)


def test_the_target_python_defaults_to_the_newest_every_model_allows() -> None:
    result = resolve(
        [
            model("a@1", ("tomli", 'python_version < "3.11"', "r.txt", 1), python=">=3.9"),
            model("b@1", python="<3.11"),
        ],
        index(),
    )
    assert result.python == "3.10"
    assert result.pins == {"tomli": "2.0.1"}


def test_models_that_need_different_pythons_conflict() -> None:
    a = ("a@1", Requirements(python="<3.10", python_origin=Origin("pyproject.toml", 4)))
    b = ("b@1", Requirements(python=">=3.11", python_origin=Origin("setup.cfg", 9)))
    result = resolve([a, b], index())
    [conflict] = result.conflicts
    assert conflict.kind == "python" and conflict.models == ("a@1", "b@1")
    assert conflict.message.startswith(
        "python: python<3.10 (a@1, pyproject.toml:4) conflicts with "
        "python>=3.11 (b@1, setup.cfg:9); known versions: 3.14, 3.13,"
    )
    explicit = resolve([a], index(), python="3.12.1")
    assert [c.message for c in explicit.conflicts] == [
        "python 3.12.1 does not satisfy python<3.10 (a@1, pyproject.toml:4)"
    ]


@pytest.mark.parametrize(
    ("requesters", "python", "path"),
    [
        ([model("m@1", ("numpy", "", "r.txt", 1))], "three", "/python"),
        ([("", Requirements())], None, "/requesters/0/label"),
        ([("m@1", Requirements(python="~~3"))], None, "/requesters/0/python"),
        (
            [("m@1", Requirements(packages=(PackageRequirement("numpy", "<<2"),)))],
            None,
            "/requesters/0/packages/0/specifier",
        ),
    ],
)
def test_malformed_input_is_invalid_input_naming_the_field(
    requesters: list[tuple[str, Requirements]], python: str | None, path: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(requesters, index(), python=python)
    assert [e.path for e in caught.value.errors] == [path]


def test_a_direct_url_requirement_is_left_to_the_url() -> None:
    wheel = "https://example.org/numpy-2.1.0-py3-none-any.whl"
    requirement = PackageRequirement("numpy", url=wheel, origin=Origin("r.txt", 1))
    result = resolve([("m@1", Requirements(packages=(requirement,)))], index())
    assert result.ok and result.pins == {} and result.direct_urls == {"numpy": wheel}


# --- scale (untimed here; bench/ times it) -----------------------------------------------
