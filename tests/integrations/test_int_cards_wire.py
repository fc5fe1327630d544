"""Model cards and deployment manifests over the wire, on both backends: the SDK through a
real server with real API tokens (round trip, 422 problem documents, who may import and
what a caller's import may match), and the CLI in-process and over HTTP with its exit
statuses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cli_harness import Cli
from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import Forbidden, InvalidInput, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, Registry, VersionRegistration

DATA = Path(__file__).parent / "data"
API = "/api/v1"
CARD = (DATA / "card_text_classification.md").read_text(encoding="utf-8")


def _manifest(name: str, uri: str) -> str:
    return (f"apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n"
            f"metadata:\n  name: {name}\nspec:\n  predictor:\n    model:\n"
            f"      modelFormat:\n        name: sklearn\n      storageUri: {uri}\n")


def _version(registry: Registry, namespace: str, name: str, uri: str) -> str:
    artifact = {"uri": uri, "sha256": "cd" * 32, "size": 10}
    return registry.register_version(namespace, name, VersionRegistration(
        metadata={"artifacts": [artifact]})).model_version.ref


@dataclass
class Team:
    url: str
    tokens: dict[str, str]
    fraud_model: str  # a version in fraud, under s3://shared/
    secret_model: str  # one in secret (ada has no role there), also under s3://shared/

    def client(self, person: str) -> Client:
        return Client(self.url, token=self.tokens[person])

    def http(self, person: str) -> httpx.Client:
        return httpx.Client(base_url=self.url + API,
                            headers={"Authorization": f"Bearer {self.tokens[person]}"})


@pytest.fixture
def team(settings: Settings, registry: Registry) -> Iterator[Team]:
    """ada contributes to fraud (and to hf, where a card's Hub datasets and base models are
    created), vic views fraud, otto contributes to another team."""
    for namespace, person, role in (("fraud", "ada", "contributor"), ("hf", "ada", "contributor"),
                                    ("fraud", "vic", "viewer"),
                                    ("other", "otto", "contributor")):
        registry.grant_role(namespace, {"principal_type": "user", "principal_name": person,
                                        "role": role})
    tokens = {person: registry.create_token(
        {"name": person, "scopes": ["write"]},
        principal=Principal(kind="user", person=person)).token
        for person in ("ada", "vic", "otto")}
    fraud = _version(registry, "fraud", "scorer", "s3://shared/fraud/model.joblib")
    secret = _version(registry, "secret", "scorer", "s3://shared/secret/model.joblib")
    locked = settings.model_copy(update={"auth_required": True})
    with running_server(create_app(locked, registry)) as url:
        yield Team(url, tokens, fraud, secret)


def test_card_round_trip_through_the_sdk_over_http(team: Team, registry: Registry) -> None:
    with team.client("ada") as ada:
        done = ada.integrations.import_card("fraud/sentiment", CARD)
        assert done.changed and done.model_version == "model_version:fraud/sentiment@1"
        assert not ada.integrations.import_card("model:fraud/sentiment", CARD).changed
        exported = ada.integrations.export_card("model:fraud/sentiment")
        assert exported == registry.export_card(done.model_version)
        copy = ada.integrations.import_card("fraud/copy", exported)
        with pytest.raises(InvalidInput) as refused:
            ada.integrations.import_card("dataset:fraud/x@1", CARD)
    assert [e.path for e in refused.value.errors] == ["/model"]
    original = registry.get_asset("model:fraud/sentiment")
    again = registry.get_asset("model:fraud/copy")
    assert again.metadata == original.metadata and again.tags == original.tags
    bases = [{r.target for r in registry.relations(str(ref), direction="out",
                                                   relation="derived_from").items}
             for ref in (done.model_version, copy.model_version)]
    assert bases[0] == bases[1] == {"model_version:hf/distilbert--distilbert-base-uncased@1"}
    used = {r.target for r in registry.relations("run:fraud/copy-v1", direction="out",
                                                 relation="used").items}
    assert used == {"dataset:hf/stanfordnlp--imdb@main"}
    assert registry.get_asset(str(copy.model_version)).metadata["metrics"] == {
        "accuracy": 0.9312, "f1": 0.9308}


def test_bad_input_is_a_problem_document_naming_the_field(team: Team,
                                                         registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref="dataset:fraud/txns@1"))
    with team.http("ada") as http:
        card = http.get("/assets/model_version:fraud/scorer@1/card")
        assert card.headers["content-type"] == "text/markdown; charset=utf-8"
        assert "`model_version:fraud/scorer@1`" in card.text
        cases = [
            http.post("/models/fraud/m/card", json={}),
            http.post("/models/fraud/m/card", json={"card": "---\nlicense: [\n---\n"}),
            http.post("/models/fraud/m/card", json={"card": "# x", "version": 0}),
            http.post("/models/Bad%20Team/m/card", json={"card": "# x"}),
            http.get("/assets/dataset:fraud/nothing@1/card"),
            http.get("/assets/dataset:fraud/txns@1/card"),
            http.post("/deployments/import", json={"manifests": []}),
            http.post("/deployments/import", json={"manifests": ["kind: ["],
                                                   "sources": ["a.yaml"]}),
            http.post("/deployments/import", json={"manifests": ["a: 1"],
                                                   "sources": ["a", "b"]}),
        ]
    found = [(c.status_code, c.json()["errors"][0]["path"]) for c in cases[:4] + cases[5:]]
    assert found == [(422, "/card"), (422, "/card"), (422, "/version"),
                     (422, "path/namespace"), (422, "path/ref"), (422, "/manifests"),
                     (422, "/manifests/a.yaml"), (422, "/sources")]
    assert cases[4].status_code == 404  # an asset nobody registered: missing, not refused
    assert all(c.headers["content-type"] == "application/problem+json" for c in cases)


def test_who_may_import_and_read_cards(team: Team, registry: Registry) -> None:
    with team.client("otto") as otto:
        with pytest.raises(Forbidden):  # another team's contributor
            otto.integrations.import_card("fraud/sentiment", CARD)
        with pytest.raises(NotFound):  # another team's version reads as missing
            otto.integrations.export_card(team.fraud_model)
        with pytest.raises(Forbidden):
            otto.integrations.import_deployments([_manifest("api", "s3://x")],
                                                 namespace="fraud")
    with team.client("vic") as vic:
        with pytest.raises(Forbidden):  # a viewer reads, does not import
            vic.integrations.import_card("fraud/scorer", CARD)
        with pytest.raises(Forbidden):
            vic.integrations.import_deployments([_manifest("api", "s3://x")],
                                                namespace="fraud")
        assert "# scorer (version 1)" in vic.integrations.export_card(team.fraud_model)
    with pytest.raises(NotFound):
        registry.get_asset("model:fraud/sentiment")  # nothing written by the refusals
    with pytest.raises(NotFound):
        registry.get_asset("deployment:fraud/api")


def test_a_manifest_import_matches_only_readable_versions(team: Team,
                                                          registry: Registry) -> None:
    manifests = [_manifest("shared-dir", "s3://shared/"),
                 _manifest("secret-file", "s3://shared/secret/model.joblib")]
    with team.client("ada") as ada:
        done = ada.integrations.import_deployments(manifests, namespace="fraud",
                                                   sources=["dir.yaml", "file.yaml"])
        with pytest.raises(InvalidInput) as strict:
            ada.integrations.import_deployments(manifests, namespace="fraud", strict=True)
    by_name = {d.deployment: d for d in done.deployments}
    shared, secret = by_name["deployment:fraud/shared-dir"], by_name["deployment:fraud/secret-file"]
    # the secret version under s3://shared/ is neither served nor named as a candidate
    assert (shared.status, shared.serves, shared.candidates) == ("matched",
                                                                 [team.fraud_model], [])
    assert (secret.status, secret.serves, secret.candidates) == ("unmatched", [], [])
    assert (done.matched, done.unmatched) == (1, 1)
    assert [e.path for e in strict.value.errors] == ["/manifests/manifest-2#1"]
    # the embedded single user reads everything: the same directory is ambiguous for it
    local = registry.import_deployments({"manifests": [manifests[0]], "namespace": "ops"})
    assert local.deployments[0].status == "ambiguous"
    assert sorted(local.deployments[0].candidates) == sorted([team.fraud_model,
                                                              team.secret_model])


def _arrange(cli: Cli, tmp_path: Path) -> Path:
    with cli.registry() as registry:
        _version(registry, "fraud", "churn", "s3://models/fraud/churn/3/model.joblib")
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "a-churn.yaml").write_text(_manifest("churn", "s3://models/fraud/churn/3"))
    (folder / "b-nowhere.yml").write_text(_manifest("nowhere", "s3://models/none"))
    (folder / "notes.txt").write_text("not a manifest: ignored")
    return folder


def test_the_cli_imports_deployments_with_exit_statuses(cli: Cli, tmp_path: Path) -> None:
    folder = _arrange(cli, tmp_path)
    imports = cli.sub("import", "deployments")
    refused = imports(str(folder), "--namespace", "prod", "--strict", code=1)
    assert "strict import" in refused.stderr and "deployment:prod/nowhere" in refused.stderr
    cli("show", "deployment:prod/churn", code=1)  # strict: nothing written
    table = imports(str(folder), "--namespace", "prod", code=1).stdout
    assert "1 matched, 1 unmatched" in table
    assert "model_version:fraud/churn@1" in table and "b-nowhere.yml" in table
    done = imports(str(folder / "a-churn.yaml"), "--namespace", "prod", "--json")
    assert '"status": "matched"' in done.stdout and '"changed": false' in done.stdout
    (folder / "c-bad.yaml").write_text("kind: [")
    bad = imports(str(folder), "--namespace", "prod", code=2)
    assert "c-bad.yaml is not valid YAML: line 1" in bad.stderr
    (tmp_path / "empty").mkdir()
    assert "no *.yaml" in imports(str(tmp_path / "empty"), code=2).stderr


def test_the_cli_imports_and_exports_a_card(cli: Cli, tmp_path: Path) -> None:
    first = cli("import", "card", str(DATA / "card_text_classification.md"),
                "--model", "nlp/sentiment").stdout
    assert "imported onto model_version:nlp/sentiment@1" in first
    again = cli("import", "card", str(DATA / "card_text_classification.md"),
                "--model", "nlp/sentiment", "--version", "1", "--json").stdout
    assert '"changed": false' in again
    out = tmp_path / "README.md"
    cli("export", "card", "model_version:nlp/sentiment@1", "-o", str(out))
    assert out.read_text().startswith("---\nlicense: apache-2.0\n")
    assert "pipeline_tag: text-classification" in cli("export", "card",
                                                      "model:nlp/sentiment").stdout
    missing = cli("export", "card", "model_version:nlp/none@1", code=1)
    assert missing.stderr.startswith("error: ")
