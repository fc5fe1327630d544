"""Metadata URIs are checked against a scheme allow-list with no path tricks (kinds/uris.py),
artifact names are single file names, and ref names refuse path characters: a table of
cases for the pure checker, and the registry's 422 naming the exact field on both backends."""

from __future__ import annotations

import pytest

from modelatlas.config import Settings
from modelatlas.errors import InvalidRef, MetadataInvalid
from modelatlas.kinds.uris import check_file_name, check_uri
from modelatlas.refs import Ref
from modelatlas.registry import AssetCreate, Registry, VersionRegistration

SHA = "ab" * 32
GOOD = ["s3://bucket/models/churn.bin", "gs://b/k", "file:///srv/models/m.bin",
        "file://localhost/srv/m.bin", "https://git.example.com/ml/churn.git",
        "git@github.com:acme/churn.git", "acme/churn", "ssh://git@host/r.git",
        "postgres://db.acme.internal:5432/shop.public.orders", "runs:/abc123/model",
        "models:/churn/3", "dbfs:/mnt/models/m", "https://h/a#readme", "s3://b/a..b/c"]
BAD = {
    "javascript:alert(1)": "scheme", "JavaScript:alert(1)": "scheme",
    "data:text/html,<script>": "scheme", "gopher://h/x": "scheme", "ftp://h/x": "scheme",
    " javascript:alert(1)": "white space", "s3://b/../etc": "'..'",
    "s3://b/%2e%2e/etc": "'..'", "s3://b/%2E%2e/etc": "'..'", "s3://b/%252e%252e/etc": "'..'",
    "s3://b/.%2e/etc": "'..'", "s3://b/..%2fetc": "'..'", "s3://b/%2e%2e%5cetc": "backslash",
    "s3://b\\..\\etc": "backslash", "s3://b/ok#/../../etc": "'..'", "s3://b/ok;/../x": "'..'",
    "file:///srv/a;x": "file:", "file:///srv/a#x": "file:", "file://evil.example/x": "file:",
    "file:relative/x": "file:", "/etc/passwd": "absolute", "%2fetc%2fpasswd": "absolute",
    "s3://b/a\x00b": "control", "s3://b/a%00b": "control", "s3://b/a%0d%0aX: y": "control",
    "https://user:secret@host/x": "credentials", "https://ghp_token@github.com/x": "credentials",
    "s3://b/" + "a" * 2100: "characters", "s3://b/%ff": "UTF-8",
    "s3://b/%25252525252e": "too many",
}


@pytest.mark.parametrize("uri", GOOD)
def test_acceptable_uris_are_kept_as_written(uri: str) -> None:
    assert check_uri(uri) == uri


@pytest.mark.parametrize(("uri", "why"), BAD.items())
def test_tricks_are_refused_with_a_reason(uri: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_uri(uri)


@pytest.mark.parametrize("name", ["..", ".", "a/b", "a\\b", "x\x00", " lead", "", "a" * 256])
def test_artifact_names_are_one_file_name(name: str) -> None:
    with pytest.raises(ValueError):
        check_file_name(name)


@pytest.mark.parametrize("name", ["a/b", "a\\b", "a%2fb", "a;b", "a#b", "a\x00b", "/abs",
                                  "a b", "a" * 201])
def test_ref_names_refuse_path_characters(name: str) -> None:
    with pytest.raises(InvalidRef):
        Ref.of("dataset", "fraud", name, "1")


def test_the_registry_names_the_offending_field(registry: Registry) -> None:
    bad = {"artifacts": [{"uri": "s3://m/ok.bin", "sha256": SHA, "size": 1},
                         {"uri": "s3://m/%252e%252e/x", "sha256": SHA, "size": 1}]}
    with pytest.raises(MetadataInvalid) as caught:
        registry.register_version("fraud", "churn", VersionRegistration(metadata=bad))
    assert [e.path for e in caught.value.errors] == ["/metadata/artifacts/1/uri"]
    cases = {"dataset:fraud/d@1": ("location", "javascript:alert(1)"),
             "code:fraud/c": ("repository", "https://u:p@git.example/x"),
             "deployment:fraud/e": ("endpoint", "data:text/html,x")}
    for ref, (field, value) in cases.items():
        with pytest.raises(MetadataInvalid) as caught:
            registry.create_asset(AssetCreate(ref=ref, metadata={field: value}))
        assert caught.value.errors[0].path == f"/metadata/{field}"
    made = registry.create_asset(AssetCreate(ref="dataset:fraud/d@1",
                                             metadata={"location": "s3://lake/d/1"}))
    assert made.metadata["location"] == "s3://lake/d/1"
    assert registry.events().items[-1].action == "asset.created"


def test_the_allow_list_is_a_setting(settings: Settings) -> None:
    narrow = Registry.open(settings.model_copy(update={"uri_schemes": "s3"}))
    try:
        narrow.create_asset(AssetCreate(ref="dataset:fraud/a@1",
                                        metadata={"location": "s3://lake/a"}))
        with pytest.raises(MetadataInvalid, match="'gs' is not allowed"):
            narrow.create_asset(AssetCreate(ref="dataset:fraud/b@1",
                                            metadata={"location": "gs://lake/b"}))
    finally:
        narrow.close()
    with pytest.raises(ValueError, match="not URI schemes"):
        Settings(uri_schemes="s3,not a scheme")
