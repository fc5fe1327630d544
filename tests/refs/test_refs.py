"""The ref grammar: one parser, one formatter, round trips, and precise refusals."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelatlas.errors import InvalidRef, UnknownKind
from modelatlas.refs import KINDS, MAX_NAME, MAX_VERSION, Ref

namespaces = st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,62}\Z")
versions = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._+-]{0,30}\Z")
name_chars = st.characters(categories=["L", "N"]) | st.sampled_from("._-")
names = (
    st.text(name_chars, min_size=1, max_size=40)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: 0 < len(s) <= MAX_NAME)
)


@st.composite
def refs(draw: st.DrawFn) -> Ref:
    version = draw(st.none() | versions)
    return Ref.of(draw(st.sampled_from(KINDS)), draw(namespaces), draw(names), version)


@given(refs())
def test_parse_format_round_trip(ref: Ref) -> None:
    text = str(ref)
    assert Ref.parse(text) == ref
    assert str(Ref.parse(text)) == text


def test_the_last_at_sign_starts_the_version() -> None:
    with pytest.raises(InvalidRef) as caught:
        Ref.parse("dataset:finance/a@b@1")  # the name would be 'a@b': '@' is not a name char
    assert "U+0040" in caught.value.errors[0].message


BAD_REFS = [
    ("", InvalidRef, "missing 'kind:'"),
    ("finance/transactions@3", InvalidRef, "missing 'kind:'"),
    ("dataset:transactions@3", InvalidRef, "missing 'namespace/'"),
    ("dataset:finance/transactions@", InvalidRef, "empty version"),
    ("dataset:finance/@3", InvalidRef, "1-200 characters"),
    ("dataset:/transactions@3", InvalidRef, "lowercase letters"),
    ("dataset:Finance/transactions@3", InvalidRef, "lowercase letters"),
    ("dataset:fin ance/transactions@3", InvalidRef, "lowercase letters"),
    ("dataset:-finance/transactions@3", InvalidRef, "lowercase letters"),
    ("dataset:" + "n" * 64 + "/transactions", InvalidRef, "lowercase letters"),
    ("dataset:finance/trans actions@3", InvalidRef, "U+0020"),
    ("dataset:finance/trans/actions@3", InvalidRef, "not allowed"),
    ("dataset:finance/" + "x" * (MAX_NAME + 1), InvalidRef, "1-200 characters"),
    ("dataset:finance/transactions@.3", InvalidRef, "letters, digits"),
    ("dataset:finance/transactions@3 4", InvalidRef, "letters, digits"),
    ("dataset:finance/transactions@" + "9" * (MAX_VERSION + 1), InvalidRef, "letters"),
    ("datasets:finance/transactions@3", UnknownKind, "unknown kind"),
    ("Dataset:finance/transactions@3", UnknownKind, "unknown kind"),
]


@pytest.mark.parametrize(("text", "error", "message"), BAD_REFS, ids=[b[0][:40] for b in BAD_REFS])
def test_bad_refs_are_refused_with_their_code(
    text: str, error: type[InvalidRef | UnknownKind], message: str
) -> None:
    with pytest.raises(error) as caught:
        Ref.parse(text, path="/datasets/0")
    exc = caught.value
    assert type(exc) is error
    assert exc.code == {InvalidRef: "invalid_ref", UnknownKind: "unknown_kind"}[error]
    assert exc.status == 422
    assert [e.path for e in exc.errors] == ["/datasets/0"]
    assert message in exc.errors[0].message
    assert repr(text)[:20] in exc.detail or not text


def test_a_non_string_is_refused() -> None:
    with pytest.raises(InvalidRef):
        Ref.parse(3)  # type: ignore[arg-type]


def test_names_are_nfc_normalised() -> None:
    composed = Ref.parse("dataset:finance/caf\u00e9@1")
    decomposed = Ref.parse("dataset:finance/cafe\u0301@1")
    assert composed == decomposed
    assert decomposed.name == "caf\u00e9"
    assert str(decomposed) == "dataset:finance/caf\u00e9@1"
    assert Ref.of("dataset", "finance", "cafe\u0301", 1) == composed


@pytest.mark.parametrize(
    "char",
    [
        "\u200b",  # zero width space
        "\u200d",  # zero width joiner
        "\u2060",  # word joiner
        "\ufeff",  # byte order mark
        "\u202e",  # right-to-left override
        "\u2066",  # left-to-right isolate
        "\u00ad",  # soft hyphen
        "\x00",
        "\x07",
        "\n",
        "\t",
        "\x7f",
        "\u00a0",  # no-break space
        "\u3000",  # ideographic space
    ],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_invisible_bidi_and_control_characters_are_refused(char: str) -> None:
    with pytest.raises(InvalidRef) as caught:
        Ref.parse(f"dataset:finance/trans{char}actions@1")
    assert f"U+{ord(char):04X}" in caught.value.errors[0].message


def test_a_combining_mark_cannot_start_a_name() -> None:
    with pytest.raises(InvalidRef):
        Ref.parse("dataset:finance/\u0301x@1")


def test_unicode_letters_and_digits_are_names() -> None:
    for name in ("données", "模型", "модель", "x٣", "a.b_c-d"):
        assert Ref.parse(f"model:team/{name}").name == name


def test_series_and_with_version() -> None:
    ref = Ref.parse("dataset:finance/transactions@3")
    assert ref.series == ("dataset", "finance", "transactions")
    assert str(ref.with_version(4)) == "dataset:finance/transactions@4"
    assert ref.with_version(None).version is None
