"""Requirements, check, resolve and why through the service layer, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelatlas.client import requirements_from_file
from modelatlas.errors import InvalidInput, ModelAtlasError, NotFound
from modelatlas.registry import (
    AssetCreate,
    EnvironmentIn,
    Registry,
    RelationCreate,
    RequirementsIn,
    VersionRegistration,
)

CHURN = "model_version:fraud/churn@1"
SCORE = "model_version:risk/score@1"
ENV = "environment:platform/serving-py311"
INDEX = """\
numpy 1.26.4
numpy 2.1.0
pandas 2.2.2 numpy>=1.23.2 | python-dateutil>=2.8.2
python-dateutil 2.9.0
"""


def _register(registry: Registry, model: str, requirements: dict[str, object]) -> str:
    namespace, name = model.split("/")
    reg = VersionRegistration(requirements=RequirementsIn.model_validate(requirements))
    return registry.register_version(namespace, name, reg).model_version.ref


def _environment(registry: Registry, ref: str = ENV, **meta: object) -> None:
    registry.create_asset(AssetCreate(ref=ref, metadata=meta))


def _refused(call: Callable[[], object]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call()
    return caught.value


def test_requirements_from_a_file_keep_their_origins(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("Pandas>=2.0  # data\n")
    (tmp_path / "requirements.txt").write_text(
        "# serving\n-r base.txt\nnumpy>=1.24,<2\n"
        "scikit_learn[alldeps]==1.4.2; python_version >= '3.10'\n"
    )
    sent = requirements_from_file(tmp_path / "requirements.txt")
    ref = _register(registry, "fraud/churn", sent.model_dump(exclude_none=True))
    stored = registry.requirements(ref)
    assert [(p.requirement, p.origin.file, p.origin.line) for p in stored.packages] == [
        ("pandas>=2.0", "base.txt", 1),
        ("numpy<2,>=1.24", "requirements.txt", 3),
        ('scikit-learn[alldeps]==1.4.2; python_version >= "3.10"', "requirements.txt", 4),
    ]
    # what was stored reads back the same on a second registry call
    assert registry.requirements(ref) == stored


def test_asset_requirements_link_the_newest_satisfying_version(registry: Registry) -> None:
    for version in (1, 2, 3):
        registry.create_asset(AssetCreate(ref=f"feature:fraud/txn-aggregates@{version}"))
    registry.create_asset(AssetCreate(ref="schema:fraud/transactions@3"))
    ref = _register(registry, "fraud/churn", {
        "assets": ["feature:fraud/txn-aggregates>=2,<3"],
        "input_schema": "schema:fraud/transactions@3",
    })
    edges = {(r.relation, r.target) for r in registry.relations(ref, direction="out").items}
    assert ("requires", "feature:fraud/txn-aggregates@2") in edges
    assert ("requires", "schema:fraud/transactions@3") in edges
    stored = registry.requirements(ref)
    assert [a.requirement for a in stored.assets] == ["feature:fraud/txn-aggregates<3,>=2"]


@pytest.mark.parametrize(
    ("assets", "reason"),
    [
        (["feature:fraud/missing"], "feature:fraud/missing does not exist"),
        (["feature:fraud/agg>=5"],
         "no version of feature:fraud/agg satisfies >=5 (versions: 1, 2)"),
        (["feature:fraud/a"], "circular registry requirements: feature:fraud/a@1 -> "
                              "feature:fraud/b@1 -> feature:fraud/a@1"),
        (["feature:fraud/agg@2"], "write the asset without a version"),
        (["model:fraud/agg"], "not a model"),
    ],
)
def test_registration_refuses_bad_asset_requirements_and_writes_nothing(
    registry: Registry, event_count: Callable[[], int], assets: list[str], reason: str
) -> None:
    for ref in ("feature:fraud/agg@1", "feature:fraud/agg@2", "feature:fraud/a@1",
                "feature:fraud/b@1"):
        registry.create_asset(AssetCreate(ref=ref))
    for source, target in (("a", "b"), ("b", "a")):
        registry.add_relation(RelationCreate(
            source=f"feature:fraud/{source}@1", relation="requires",
            target=f"feature:fraud/{target}@1",
        ))
    before = event_count()
    error = _refused(lambda: _register(registry, "fraud/churn", {"assets": ["feature:fraud/agg",
                                                                           *assets]}))
    assert error.errors[0].path == "/requirements/assets/1"
    assert reason in error.errors[0].message
    assert event_count() == before
    with pytest.raises(NotFound):
        registry.get_asset("model:fraud/churn")


def test_set_requirements_replaces_rows_edges_and_appends_one_event(registry: Registry) -> None:
    for version in (1, 2):
        registry.create_asset(AssetCreate(ref=f"feature:fraud/agg@{version}"))
    ref = _register(registry, "fraud/churn", {"packages": ["numpy<2"],
                                              "assets": ["feature:fraud/agg<2"]})
    stored = registry.set_requirements(ref, {"packages": ["scipy>=1.11"],
                                             "assets": ["feature:fraud/agg>=2"]})
    assert [p.requirement for p in stored.packages] == ["scipy>=1.11"]
    assert registry.requirements(ref) == stored
    targets = [r.target for r in registry.relations(ref, direction="out",
                                                    relation="requires").items]
    assert targets == ["feature:fraud/agg@2"]
    [event] = [e for e in registry.history(ref).items if e.action == "requirements.set"][1:]
    assert event.payload["packages"][0]["requirement"] == "scipy>=1.11"
    error = _refused(lambda: registry.set_requirements(ref, {"packages": ["numpy>>2"]}))
    assert error.errors[0].path == "/packages/0"
    assert registry.requirements(ref) == stored


def test_check_against_an_environment_names_every_violation_with_its_origin(
    registry: Registry,
) -> None:
    _environment(registry, python="3.11.7", packages=["numpy==2.1.0", "pandas==2.2.2"],
                 platform="linux")
    ref = _register(registry, "fraud/churn", {
        "python": ">=3.12",
        "packages": [
            {"requirement": "numpy<2", "file": "requirements.txt", "line": 3},
            {"requirement": "pywin32>=306; sys_platform == 'win32'", "file": "r.txt", "line": 4},
            {"requirement": "tomli>=2; python_version < '3.11'", "file": "r.txt", "line": 5},
            {"requirement": "scipy", "file": "r.txt", "line": 6},
        ],
    })
    result = registry.check(ref, ENV)
    assert not result.compatible
    assert [v.message for v in result.violations] == [
        "python 3.11.7 does not satisfy >=3.12 (fraud/churn@1, request)",
        "numpy 2.1.0 does not satisfy <2 (fraud/churn@1, requirements.txt:3)",
        "scipy is not installed; fraud/churn@1 requires scipy (r.txt:6)",
    ]
    assert result.violations[1].origin is not None and result.violations[1].origin.line == 3
    # markers follow the target: on Windows and Python 3.10, two more requirements apply
    inline = EnvironmentIn(python="3.10.4", platform="win32",
                           packages={"numpy": "1.26.4", "scipy": "1.13.0"})
    windows = registry.check(ref, environment=inline)
    assert [v.subject for v in windows.violations] == ["python", "pywin32", "tomli"]


def test_check_a_deployment_through_its_environment(registry: Registry) -> None:
    _environment(registry, python="3.11.7", packages=["numpy==1.26.4"])
    ref = _register(registry, "fraud/churn", {"packages": ["numpy<2"]})
    registry.create_asset(AssetCreate(ref="deployment:fraud/churn-prod"))
    error = _refused(lambda: registry.check(ref, "deployment:fraud/churn-prod"))
    assert error.errors[0].path == "/target"
    registry.add_relation(RelationCreate(source="deployment:fraud/churn-prod",
                                         relation="requires", target=ENV))
    result = registry.check(ref, "deployment:fraud/churn-prod")
    assert result.compatible and result.environment.name == ENV


def test_check_reports_asset_requirements_the_graph_no_longer_satisfies(
    registry: Registry,
) -> None:
    _environment(registry, python="3.11.7")
    registry.create_asset(AssetCreate(ref="feature:fraud/agg@2"))
    ref = _register(registry, "fraud/churn", {"assets": ["feature:fraud/agg>=2"]})
    assert registry.check(ref, ENV).compatible
    with registry.db.write() as conn:  # the feature disappears behind the registry's back
        conn.exec_driver_sql("DELETE FROM relations")
        conn.exec_driver_sql("DELETE FROM asset_tags")
        conn.exec_driver_sql("DELETE FROM assets WHERE kind = 'feature'")
    [violation] = registry.check(ref, ENV).violations
    assert violation.kind == "asset" and "feature:fraud/agg does not exist" in violation.message


def test_resolve_explains_a_real_conflict_between_two_models(registry: Registry) -> None:
    _register(registry, "fraud/churn", {"packages": [
        {"requirement": "numpy>=1.24,<2", "file": "requirements.txt", "line": 3},
        {"requirement": "pandas>=2", "file": "requirements.txt", "line": 4},
    ]})
    _register(registry, "risk/score", {"packages": [
        {"requirement": "numpy>=2", "file": "pyproject.toml", "line": 12},
    ]})
    result = registry.resolve({"refs": [CHURN, SCORE], "index_snapshot": INDEX,
                               "python": "3.11"})
    assert not result.ok and result.pins == {}
    [conflict] = result.conflicts
    assert conflict.package == "numpy" and conflict.models == ["fraud/churn@1", "risk/score@1"]
    assert conflict.message == (
        "numpy: numpy<2,>=1.24 (fraud/churn@1, requirements.txt:3) conflicts with "
        "numpy>=2 (risk/score@1, pyproject.toml:12); known versions: 2.1.0, 1.26.4"
    )
    alone = registry.resolve({"refs": [CHURN], "index_snapshot": INDEX, "python": "3.11"})
    assert alone.ok
    assert alone.pins == {"numpy": "1.26.4", "pandas": "2.2.2", "python-dateutil": "2.9.0"}


def test_resolve_uses_the_versions_installed_in_environments(registry: Registry) -> None:
    _environment(registry, python="3.11.7", packages=["numpy==1.26.4", "numpy-extra>=1"])
    _register(registry, "fraud/churn", {"packages": ["numpy<2"]})
    result = registry.resolve({"refs": [CHURN]})
    assert result.ok and result.pins == {"numpy": "1.26.4"}
    assert result.unknown_dependencies == ["numpy 1.26.4"]


def test_why_shows_declarations_and_chains(registry: Registry) -> None:
    _register(registry, "fraud/churn", {"packages": [
        {"requirement": "numpy<2", "file": "requirements.txt", "line": 3},
        {"requirement": "pandas>=2", "file": "requirements.txt", "line": 4},
    ]})
    result = registry.why({"ref": CHURN, "package": "NumPy", "index_snapshot": INDEX})
    assert result.package == "numpy" and result.pinned == "1.26.4"
    assert [(p.requirement, p.origin.line) for p in result.direct] == [("numpy<2", 3)]
    chains = [[d.text for d in chain] for chain in result.chains]
    assert [
        "pandas>=2 (fraud/churn@1, requirements.txt:4)",
        "numpy>=1.23.2 (required by pandas 2.2.2, index.txt:3; via fraud/churn@1)",
    ] in chains
    dateutil = registry.why({"ref": CHURN, "package": "python-dateutil",
                             "index_snapshot": INDEX})
    assert dateutil.direct == [] and len(dateutil.chains) == 1


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda r: r.requirements("model:fraud/churn"), "/ref"),
        (lambda r: r.check(CHURN), "/target"),
        (lambda r: r.check(CHURN, "model:fraud/churn"), "/target"),
        (lambda r: r.resolve({"refs": [CHURN], "python": "three"}), "/python"),
        (lambda r: r.resolve({"refs": []}), "/refs"),
        (lambda r: r.resolve({"refs": [CHURN, "model_version:fraud/churn@9"]}), "/refs/1"),
        (lambda r: r.resolve({"refs": [CHURN], "index_snapshot": "numpy\n"}), "index.txt:1"),
        (lambda r: r.why({"ref": CHURN, "package": "not a name"}), "/package"),
        (lambda r: r.set_requirements(CHURN, {"python": "3.11!"}), "/python"),
        (lambda r: r.set_requirements(CHURN, {"packages": ["x; bogus == '1'"]}), "/packages/0"),
    ],
)
def test_bad_input_names_the_field(
    registry: Registry, call: Callable[[Registry], object], path: str
) -> None:
    _register(registry, "fraud/churn", {})
    with pytest.raises(ModelAtlasError) as caught:
        call(registry)
    assert caught.value.status in (404, 422)
    assert caught.value.errors[0].path == path
