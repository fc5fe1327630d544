"""Deployment manifests (KServe, Seldon) in, on both backends: matched by storage URI or
digest, unmatched ones reported, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelatlas.errors import InvalidInput
from modelatlas.integrations import parse_manifests
from modelatlas.registry import Registry, VersionRegistration

DATA = Path(__file__).parent / "data"
IRIS_SHA = "ab" * 32


def _text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _version(registry: Registry, namespace: str, name: str, uri: str,
             sha: str = "cd" * 32) -> str:
    artifact = {"uri": uri, "sha256": sha, "size": 10}
    done = registry.register_version(namespace, name, VersionRegistration(
        metadata={"artifacts": [artifact]}))
    return done.model_version.ref


def _world(registry: Registry) -> dict[str, str]:
    return {
        "churn": _version(registry, "fraud", "churn", "s3://models/fraud/churn/3/model.joblib"),
        "xgb": _version(registry, "fraud", "xgb", "gs://bucket/fraud/xgb/model.bst"),
        "iris": _version(registry, "vision", "iris",
                         "gs://seldon-models/mlserver/iris/model.joblib", IRIS_SHA),
        # same file name one directory over: must not match churn's storageUri
        "other": _version(registry, "fraud", "churn2", "s3://models/fraud/churn/30/m.joblib"),
    }


def test_parse_every_shape() -> None:
    kserve = parse_manifests(_text("kserve_v1beta1.yaml"), source="k").deployments[0]
    assert (kserve.storage_uris, kserve.model_format, kserve.replicas) == (
        ("s3://models/fraud/churn/3",), "sklearn", 2)
    old = parse_manifests(_text("kserve_old.yaml"), source="o").deployments[0]
    assert (old.model_format, old.traffic_percent) == ("sklearn", 10.0)
    seldon = parse_manifests(_text("seldon_v1.yaml"), source="s").deployments[0]
    assert seldon.storage_uris == ("gs://bucket/fraud/scaler", "gs://bucket/fraud/xgb/model.bst")
    v2 = parse_manifests(_text("seldon_v2.yaml"), source="v").deployments[0]
    assert v2.sha256 == IRIS_SHA and v2.platform == "seldon-v2"
    multi = parse_manifests(_text("multi.yaml"), source="m")
    assert [d.name for d in multi.deployments] == ["nowhere", "iris-dir"]
    assert [(s.source, s.kind) for s in multi.skipped] == [("m#1", "v1 ConfigMap")]


def test_import_links_what_it_can_and_reports_the_rest(registry: Registry) -> None:
    refs = _world(registry)
    names = ["kserve_v1beta1.yaml", "kserve_old.yaml", "seldon_v1.yaml", "seldon_v2.yaml",
             "multi.yaml"]
    done = registry.import_deployments({"manifests": [_text(n) for n in names],
                                        "sources": names})
    by_ref = {d.deployment: d for d in done.deployments}
    assert by_ref["deployment:ml-serving/churn-predictor"].serves == [refs["churn"]]
    assert by_ref["deployment:ml-serving/churn-legacy"].serves == [refs["churn"]]
    assert by_ref["deployment:seldon/fraud-graph"].serves == [refs["xgb"]]
    iris = by_ref["deployment:seldon-mesh/iris"]
    assert (iris.serves, iris.matched_by) == ([refs["iris"]], "sha256")
    assert by_ref["deployment:default/iris-dir"].serves == [refs["iris"]]
    nowhere = by_ref["deployment:ml-serving/nowhere"]
    assert (nowhere.status, nowhere.serves) == ("unmatched", [])
    assert (done.matched, done.unmatched) == (5, 1)
    assert [s.kind for s in done.skipped] == ["v1 ConfigMap"]
    edges = registry.relations("deployment:ml-serving/churn-predictor", direction="out")
    assert [(e.relation, e.target) for e in edges.items] == [("serves", refs["churn"])]
    deployment = registry.get_asset("deployment:ml-serving/churn-predictor")
    assert deployment.metadata == {"target": "kserve", "replicas": 2}

    again = registry.import_deployments({"manifests": [_text(n) for n in names],
                                         "sources": names})
    assert not any(d.changed for d in again.deployments)


def test_namespace_option_and_strict(registry: Registry) -> None:
    _world(registry)
    with pytest.raises(InvalidInput) as raised:
        registry.import_deployments({"manifests": [_text("multi.yaml")], "strict": True,
                                     "namespace": "serving"})
    assert "deployment:serving/nowhere" in raised.value.detail
    with pytest.raises(Exception, match="does not exist"):
        registry.get_asset("deployment:serving/iris-dir")  # nothing written
    done = registry.import_deployments({"manifests": [_text("kserve_v1beta1.yaml")],
                                        "namespace": "serving"})
    assert done.deployments[0].deployment == "deployment:serving/churn-predictor"


def test_ambiguous_uri_links_nothing(registry: Registry) -> None:
    a = _version(registry, "team", "a", "s3://shared/model.pkl")
    b = _version(registry, "team", "b", "s3://shared/model.pkl")
    text = ("apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata: {name: m}\n"
            "spec: {storageUri: 's3://shared/model.pkl'}\n")
    done = registry.import_deployments({"manifests": [text]})
    assert (done.deployments[0].status, done.deployments[0].candidates) == (
        "ambiguous", [a, b])


@pytest.mark.parametrize(("text", "message"), [
    ("- just\n- a list\n", "not a mapping"),
    ("apiVersion: v1\nkind: Model\nmetadata: !!python/name:os.system ''\n", "python/name"),
    ("apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nspec: {}\n", "needs a name"),
    ("kind: [unclosed\n", "line 1"),
])
def test_bad_manifests_are_refused(registry: Registry, text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        registry.import_deployments({"manifests": [text]})
    assert message in raised.value.detail
