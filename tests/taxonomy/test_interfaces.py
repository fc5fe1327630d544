"""The vocabulary through the SDK (HTTP to a real server, and in-process), the REST API's
own edges (YAML bodies, problems), and the CLI: the same answers every way."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from cli_harness import TRANSPORTS, Cli
from modelatlas.client import Client
from modelatlas.errors import AlreadyExists, Conflict, InvalidInput, MalformedBody, NotFound
from modelatlas.registry import Registry
from modelatlas.search.taxonomy import default_vocabulary

API = "/api/v1/taxonomy"


def test_sdk_round_trip(client: Client) -> None:
    loaded = client.taxonomy.load(default_vocabulary())
    assert loaded.created == loaded.terms
    assert client.taxonomy.load(default_vocabulary()).created == 0  # same document: updates
    made = client.taxonomy.set("task:classification/binary/imbalanced",
                               parent="task:classification/binary", synonyms=["rare-event"])
    assert made.parent == "task:classification/binary"
    found = client.taxonomy.expand("Classification")
    assert found.canonical == "task:classification"
    assert {"task:classification/binary/imbalanced", "rare-event"} <= set(found.tags)
    assert client.taxonomy.get("rare-event").term == "task:classification/binary/imbalanced"
    assert client.taxonomy.add_synonym("tabular", "tables").synonyms[-1] == "tables"
    client.taxonomy.remove_synonym("tables")
    page = client.taxonomy.terms(under="task:classification", limit=2)
    assert [t.term for t in page.items] == ["task:classification",
                                            "task:classification/binary"]
    assert page.next_cursor is not None
    rest = client.taxonomy.terms(under="task:classification", cursor=page.next_cursor)
    assert rest.items[0].term == "task:classification/binary/imbalanced"
    client.taxonomy.remove("task:classification/binary/imbalanced")
    assert client.taxonomy.expand("rare-event").tags == ["rare-event"]
    actions = [e.action for e in client.events(limit=500).items]
    assert actions == ["taxonomy.loaded", "taxonomy.loaded", "taxonomy.term_set",
                       "taxonomy.synonym_set", "taxonomy.synonym_removed",
                       "taxonomy.term_removed"]


def test_sdk_errors_are_the_same_classes(client: Client) -> None:
    client.taxonomy.load(default_vocabulary())
    with pytest.raises(Conflict):
        client.taxonomy.remove("gradient-boosting")
    with pytest.raises(InvalidInput) as caught:
        client.taxonomy.set("gradient-boosting", parent="xgboost")
    assert caught.value.errors[0].path == "/parent"
    with pytest.raises(AlreadyExists):
        client.taxonomy.set("my-nlp", synonyms=["nlp"])
    with pytest.raises(NotFound):
        client.taxonomy.get("no-such-term")
    with pytest.raises(InvalidInput):
        client.taxonomy.set("Has Spaces")
    with pytest.raises(MalformedBody):
        client.taxonomy.load("terms: [unclosed")
    with pytest.raises(InvalidInput) as caught:
        client.taxonomy.terms(cursor="bm90IG91cnM!")
    assert caught.value.errors[0].path == "/cursor"


def test_api_takes_yaml_and_answers_problems(base_url: str, registry: Registry) -> None:
    with httpx.Client(base_url=base_url + API) as http:
        sent = http.post("/load", content=default_vocabulary().encode(),
                         headers={"content-type": "application/yaml"})
        assert sent.status_code == 200 and sent.json()["terms"] >= 80
        got = http.get("/terms/task:classification/binary")
        assert got.json()["parent"] == "task:classification"
        assert http.get("/expand", params={"tag": "nlp"}).json()["canonical"] == (
            "natural-language-processing")
        put = http.put("/terms/team:fraud", json={"description": "fraud team", "parent": None})
        assert put.status_code == 200 and put.json()["updated_by"] == registry.settings.actor
        assert http.delete("/terms/team:fraud").status_code == 204
        cases = [
            (http.delete("/terms/task:classification"), 409, "path/term"),
            (http.put("/terms/Bad Term", json={}), 422, "path/term"),
            (http.put("/terms/a", json={"parent": "nowhere"}), 422, "/parent"),
            (http.put("/terms/a", json={"synonym": []}), 422, "/synonym"),
            (http.get("/terms/no-such"), 404, "path/term"),
            (http.get("/expand"), 422, "query/tag"),
            (http.get("/terms", params={"cursor": "%%%"}), 422, "query/cursor"),
            (http.post("/load", content=b"terms: []", headers={"content-type": "text/csv"}),
             400, "header/content-type"),
            (http.post("/load", content=b'{"terms": [], "terms": []}',
                       headers={"content-type": "application/json"}), 400, "/terms"),
            (http.post("/load", content=b"x" * (2 * 1024 * 1024),
                       headers={"content-type": "application/yaml"}), 413, ""),
            # an integer past Python's digit limit: strict JSON refuses it (was a 500)
            (http.post("/load", content=b'{"n": ' + b"1" * 5000 + b"}",
                       headers={"content-type": "application/json"}), 400, ""),
            (http.post("/load", params={"replace": "maybe"}, json={"terms": []}), 422,
             "query/replace"),
        ]
        for response, status, path in cases:
            assert response.status_code == status, response.text
            problem = response.json()
            assert response.headers["content-type"] == "application/problem+json"
            assert problem["status"] == status and problem["errors"][0]["path"] == path


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cli_round_trip(transport: str, tmp_path: Path, database_url: str) -> None:
    local = Cli(tmp_path, database_url)
    first = local("init").stdout
    assert "default vocabulary loaded" in first
    assert "default vocabulary" not in local("init").stdout  # idempotent
    with local.over(transport) as cli:
        _round_trip(cli, tmp_path)


def _round_trip(cli: Cli, tmp_path: Path) -> None:
    listed = json.loads(cli("taxonomy", "ls", "--all", "--json").stdout)
    assert len(listed["items"]) >= 80 and listed["next_cursor"] is None
    assert "gradient-boosting" in cli("taxonomy", "ls", "--under", "tree-based").stdout
    shown = json.loads(cli("taxonomy", "show", "nlp", "--json").stdout)
    assert shown["term"] == "natural-language-processing"
    cli("taxonomy", "set", "team:fraud/cards", "--description", "card fraud",
        "--synonym", "cards")
    doc = tmp_path / "extra.yaml"
    doc.write_text("terms:\n  - term: team:fraud\n    children:\n"
                   "      - {term: team:fraud/cards, synonyms: [cards]}\n")
    assert "1 created, 1 updated" in cli("taxonomy", "load", str(doc)).stdout
    expanded = json.loads(cli("taxonomy", "expand", "team:fraud", "--json").stdout)
    assert expanded["tags"] == ["team:fraud", "team:fraud/cards", "cards"]
    assert "cards means team:fraud/cards" in cli("taxonomy", "expand", "cards").stdout
    error = cli("taxonomy", "rm", "team:fraud", code=1).stderr
    assert error.startswith("error: team:fraud has narrower terms") and error.count("\n") == 1
    cli("taxonomy", "rm", "team:fraud/cards")
    cli("taxonomy", "rm", "team:fraud")
    assert "not in the vocabulary" in cli("taxonomy", "expand", "team:fraud").stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("terms: [{term: a, synonyms: [a]}]\n")
    assert "/terms/0/synonyms/0" in cli("taxonomy", "load", str(bad), code=1).stderr
