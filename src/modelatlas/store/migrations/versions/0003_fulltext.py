"""fulltext: an index over each asset's searchable text, kept in sync by the database itself

Revision ID: 0003
Revises: 0002
Classification: cautious (no existing column changes, but the whole ``assets`` table is read
to build the index: on PostgreSQL adding a stored generated column rewrites the table under
an exclusive lock and builds a GIN index; on SQLite the backfill reads every asset in the
migration's transaction. Time grows with the registry; writes wait until it is done.)

The searchable text of an asset, in six fields, highest weight first:

====  ============  ==============================================  ========  =========
 #    field         source                                          FTS5 w.   tsvector
====  ============  ==============================================  ========  =========
 1    name          ``name`` (``-`` ``_`` ``.`` separate words)     10        A
 2    tags          ``tags`` (JSON array), joined with spaces       5         B
 3    description   ``description``, first 100,000 characters       2         C
 4    card          ``meta.card`` (model card), first 100,000 chars 1         C
 5    namespace     ``namespace``                                   1         D
 6    kind          ``kind`` (``model_version`` = two words)        0.5       D
====  ============  ==============================================  ========  =========

The index is maintained by the database (SQLite triggers; a PostgreSQL stored generated
column), never by the service layer, so every write path stays indexed: the service, the
bulk loader, raw SQL.

Tokens are the same on both backends for Latin, Greek, Cyrillic, CJK, Hangul and Thai text:
lower case; a run of letters and digits is a word, anything else separates words; accents
on Latin letters are removed (``café`` = ``cafe``, precomposed or not), other letters keep
theirs (``й`` is not ``и``), as SQLite's ``unicode61 remove_diacritics 2`` tokenizer does.
PostgreSQL's text-search parser tokenizes differently (``fraud-detector`` is one word to
it, e-mail addresses and paths are kept whole), so on PostgreSQL the words are split by
:func:`modelatlas_fts_words` below, which mirrors ``unicode61``, and the tsvector is built
from its lexemes and positions directly rather than through ``to_tsvector``. Known
differences: letters followed by combining marks outside U+0300..U+036F (Devanagari vowel
signs, Arabic harakat, Hebrew points) are split into pieces by ``unicode61`` and kept
whole on PostgreSQL; "other numbers" (``²`` ``½`` ``①``) are words on SQLite only; past
16,383 words in one asset PostgreSQL stops recording positions, so phrases there may miss.

Fields do not run into each other: a phrase never spans two fields (FTS5 columns; on
PostgreSQL each field starts one position after the previous one ends).
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# A field is cut at this many characters before indexing: a tsvector holds at most 1 MB,
# and a model card of megabytes must not make a registration fail. The same cut on both
# backends keeps the result sets equal.
TEXT_CAP = 100_000


def _run(statement: str) -> None:
    # Straight to the driver: SQLAlchemy's text() would read ``[:alnum:]`` as a parameter.
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


# SQLite ------------------------------------------------------------------------------------

def _sqlite_values(row: str) -> str:
    """The six fields of one ``assets`` row (``NEW`` or ``OLD`` in a trigger)."""
    return (
        f"{row}.name, "
        f"(SELECT group_concat(value, ' ') FROM json_each({row}.tags)), "
        f"substr({row}.description, 1, {TEXT_CAP}), "
        f"substr(json_extract({row}.meta, '$.card'), 1, {TEXT_CAP}), "
        f"{row}.namespace, {row}.kind"
    )


_FTS_COLUMNS = "name, tags, description, card, namespace, kind"
_WATCHED = ("id", "name", "tags", "description", "meta", "namespace", "kind")


def _sqlite() -> None:
    # Contentless (content=''): the text already lives in `assets`; a copy would double the
    # size of descriptions and cards. The price: a delete must hand FTS5 the old values,
    # which the triggers recompute from OLD with the same expressions as the insert.
    _run(
        f"CREATE VIRTUAL TABLE assets_fts USING fts5({_FTS_COLUMNS}, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    insert = (
        f"INSERT INTO assets_fts(rowid, {_FTS_COLUMNS}) VALUES (NEW.id, {_sqlite_values('NEW')});"
    )
    delete = (
        f"INSERT INTO assets_fts(assets_fts, rowid, {_FTS_COLUMNS}) "
        f"VALUES ('delete', OLD.id, {_sqlite_values('OLD')});"
    )
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _WATCHED)
    _run(f"CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets BEGIN {insert} END")
    _run(f"CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets BEGIN {delete} END")
    # Most updates change the state or the metrics, not the text: leave the index alone.
    _run(
        f"CREATE TRIGGER assets_fts_update AFTER UPDATE OF {', '.join(_WATCHED)} ON assets "
        f"WHEN {changed} BEGIN {delete} {insert} END"
    )
    _run(
        f"INSERT INTO assets_fts(rowid, {_FTS_COLUMNS}) "
        f"SELECT a.id, {_sqlite_values('a')} FROM assets AS a"
    )


# PostgreSQL --------------------------------------------------------------------------------

# The words of a text, as unicode61 splits them (see the module docstring). Empty strings
# mark separators at either end; their places keep word positions right.
_PG_WORDS = r"""
CREATE FUNCTION modelatlas_fts_words(body text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT regexp_split_to_array(
    regexp_replace(
      normalize(
        regexp_replace(normalize(lower(body), NFD), '([a-z])[\u0300-\u036f]+', '\1', 'g'),
        NFC),
      '[\u0300-\u036f]+', '', 'g'),
    '[^[:alnum:]]+')
$$
"""

# The document: every word with its position and its field's weight, written as a tsvector
# literal so PostgreSQL's parser does not split the words again. Words over 2,046 bytes
# (a lexeme's limit) are left out but keep their place.
_PG_DOCUMENT = f"""
CREATE FUNCTION modelatlas_fts_document(
  name text, description text, card text, tags jsonb, namespace text, kind text
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  WITH fields AS (
    SELECT ord, weight, coalesce(modelatlas_fts_words(body), '{{}}') AS words
    FROM (VALUES
      (1, 'A', name),
      (2, 'B', (SELECT string_agg(t, ' ') FROM jsonb_array_elements_text(tags) AS t)),
      (3, 'C', left(description, {TEXT_CAP})),
      (4, 'C', left(card, {TEXT_CAP})),
      (5, 'D', namespace),
      (6, 'D', kind)
    ) AS f(ord, weight, body)
  ), placed AS (
    SELECT weight, words, coalesce(sum(cardinality(words) + 1) OVER (
      ORDER BY ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS base
    FROM fields
  )
  SELECT coalesce(
    string_agg(quote_literal(w) || ':' || least(base + n, 16383) || weight, ' '), ''
  )::tsvector
  FROM placed, unnest(words) WITH ORDINALITY AS u(w, n)
  WHERE w <> '' AND octet_length(w) <= 2046
$$
"""

# One query term: the words of ``phrase`` (split as the documents were) one after the
# other, the last one a prefix if asked. NULL when the phrase has no word: matches nothing.
_PG_PHRASE = """
CREATE FUNCTION modelatlas_fts_phrase(phrase text, prefix boolean) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT string_agg(
    quote_literal(w) || CASE WHEN prefix AND n = cardinality(words) THEN ':*' ELSE '' END,
    ' <-> ' ORDER BY n
  )::tsquery
  FROM (SELECT array_remove(modelatlas_fts_words(phrase), '') AS words) AS p,
       unnest(words) WITH ORDINALITY AS u(w, n)
$$
"""


def _postgresql() -> None:
    _run(_PG_WORDS)
    _run(_PG_DOCUMENT)
    _run(_PG_PHRASE)
    # A generated column cannot drift from the row: no trigger to disable, no backfill job.
    _run(
        "ALTER TABLE assets ADD COLUMN search_document tsvector GENERATED ALWAYS AS ("
        "modelatlas_fts_document(name, description, meta ->> 'card', tags, namespace, kind)"
        ") STORED"
    )
    _run(
        "CREATE INDEX ix_assets_search_document ON assets USING gin (search_document)"
    )
