"""A write transaction's part in encryption at rest: sensitive values out of the asset's
row before it is written, sealed into ``sensitive_values`` once the row has its id.

Every path that builds an asset row goes through :meth:`WriteTx.asset_values`, which calls
:meth:`Sealing.stash`: the row then holds :data:`MARKER` where a sensitive value was, so
the full-text index, facets, events (their snapshots are built from the row's values) and
every reader without ``sensitive.read`` see the marker and nothing else. The stashed
plaintext is sealed by :meth:`Sealing.store_new` once the row's id is known (the id is in
the associated data). A path that builds a row but never stores its stash is refused when
its transaction flushes: it would lose the values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.errors import FieldError, InvalidInput, Unavailable
from modelatlas.governance.crypto import Keyring, Sealed
from modelatlas.registry.types import Asset
from modelatlas.store.prepared import Prepared, driver_json
from modelatlas.store.tables import assets, sensitive_fields, sensitive_values

MARKER = "[redacted]"
# rows read at once when a namespace's sensitive fields change
RESYNC_BATCH = 500
KeyringSource = Callable[[], Keyring]

# where a field path's value lives in an asset row / in an Asset
_COLUMN = {"metadata": "meta", "custom": "custom"}


def split_field(path: str) -> tuple[str, str]:
    """``metadata.location`` -> (``metadata``, ``location``)."""
    section, _, key = path.partition(".")
    return section, key


def has_marker(asset: Asset) -> bool:
    """Whether the asset shows a redacted value (cheap: no query, top-level keys only)."""
    return shows_marker(asset.metadata, asset.custom)


def shows_marker(meta: Mapping[str, Any], custom: Mapping[str, Any]) -> bool:
    """:func:`has_marker` for a stored row's ``meta`` and ``custom``."""
    return any(v == MARKER for v in meta.values()) or any(v == MARKER for v in custom.values())


def with_plaintext(asset: Asset, plain: Mapping[str, Any]) -> Asset:
    """``asset`` with the opened values in place of their markers."""
    if not plain:
        return asset
    sections = {"metadata": dict(asset.metadata), "custom": dict(asset.custom)}
    for path, value in plain.items():
        section, key = split_field(path)
        sections[section][key] = value
    return asset.model_copy(update=sections)


def open_values(conn: Connection, keyring: Callable[[], Keyring],
                asset_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The plaintext of the sealed values of ``asset_ids``, by asset and field."""
    ids = sorted(set(asset_ids))
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(sensitive_values).where(sensitive_values.c.asset_id.in_(ids))
    ).all()
    if not rows:
        return {}
    ring = keyring()
    opened: dict[int, dict[str, Any]] = {}
    for row in rows:
        plaintext = ring.open(Sealed(row.key_id, bytes(row.nonce), bytes(row.ciphertext)),
                              asset_id=row.asset_id, field_name=row.field)
        opened.setdefault(row.asset_id, {})[row.field] = orjson.loads(plaintext)
    return opened


def seal_rows(keyring: Keyring, asset_id: int, secrets: Mapping[str, Any]
              ) -> list[dict[str, Any]]:
    rows = []
    for path, value in sorted(secrets.items()):
        sealed = keyring.seal(orjson.dumps(value), asset_id=asset_id, field_name=path)
        rows.append({"asset_id": asset_id, "field": path, "key_id": sealed.key_id,
                     "nonce": sealed.nonce, "ciphertext": sealed.ciphertext})
    return rows


# read by every write that creates or changes an asset with metadata (once per namespace
# and kind in a transaction): built once, as the rest of a registration's statements are
_SENSITIVE_FIELDS = Prepared(sa.select(sensitive_fields.c.fields).where(
    sensitive_fields.c.namespace == sa.bindparam("namespace"),
    sensitive_fields.c.kind == sa.bindparam("kind")))


class Sealing:
    """Owned by one :class:`~modelatlas.registry._tx.WriteTx`."""

    def __init__(self, conn: Connection, keyring: KeyringSource | None) -> None:
        self.conn = conn
        self._source = keyring
        self._fields: dict[tuple[str, str], tuple[str, ...]] = {}
        self._stash: dict[tuple[str, str, str, str], dict[str, Any]] = {}

    def keyring(self) -> Keyring:
        if self._source is None:  # a writer built without keys must not write secrets
            raise Unavailable("this write path cannot store sensitive fields (no keyring)",
                              errors=[FieldError("/", "write these assets through the "
                                                 "registry's create or update")])
        return self._source()

    def fields(self, namespace: str, kind: str) -> tuple[str, ...]:
        """The sensitive field paths of ``kind`` in ``namespace`` (read once per transaction)."""
        key = (namespace, kind)
        found = self._fields.get(key)
        if found is None:
            stored = driver_json(self.conn, _SENSITIVE_FIELDS.scalar(
                self.conn, {"namespace": namespace, "kind": kind}))
            found = self._fields[key] = tuple(stored or ())
        return found

    def prime(self, fields: Mapping[tuple[str, str], Iterable[str]]) -> None:
        """Take the sensitive fields of these (namespace, kind) pairs (an empty iterable:
        none) from a caller that read them in this transaction with its own reads, so
        :meth:`fields` asks nothing more for them (OpenLineage reads every pair a
        request touches in one statement; one query per pair was a fifth of an event)."""
        for key, paths in fields.items():
            self._fields.setdefault(key, tuple(paths))

    def strip(self, namespace: str, kind: str, values: dict[str, Any],
              previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Put :data:`MARKER` in ``values`` (new ``meta``/``custom`` dicts) where a sensitive
        value is, and return those values by field path. A field given as the marker
        itself keeps its ``previous`` value: a caller who read the asset redacted and
        sends it back unchanged does not overwrite the secret with the marker."""
        if not (values["meta"] or values["custom"]):
            return {}  # nothing that could be sensitive: no query
        secrets: dict[str, Any] = {}
        for path in self.fields(namespace, kind):
            section, key = split_field(path)
            column = _COLUMN[section]
            value = values[column].get(key)
            if value is None:
                continue
            if value == MARKER and previous is not None and path in previous:
                value = previous[path]
            secrets[path] = value
            values[column] = {**values[column], key: MARKER}
        return secrets

    # new rows ----------------------------------------------------------------------------
    def stash(self, values: dict[str, Any]) -> None:
        """Strip a new row's sensitive values, kept until :meth:`store_new`."""
        secrets = self.strip(values["namespace"], values["kind"], values)
        if secrets:
            key = (values["kind"], values["namespace"], values["name"], values["version"])
            self._stash[key] = secrets

    def stash_custom(self, values: dict[str, Any], custom: dict[str, Any]) -> None:
        """Give a new row (from :meth:`stash`) its custom fields after the fact, their
        sensitive values stashed with the rest (OpenLineage folds custom fields apart)."""
        part: dict[str, Any] = {"meta": {}, "custom": custom}
        secrets = self.strip(values["namespace"], values["kind"], part)
        values["custom"] = part["custom"]
        if secrets:
            key = (values["kind"], values["namespace"], values["name"], values["version"])
            self._stash.setdefault(key, {}).update(secrets)

    def store_new(self, asset_id: int, values: Mapping[str, Any]) -> None:
        key = (values["kind"], values["namespace"], values["name"], values["version"])
        secrets = self._stash.pop(key, None)
        if secrets:
            self.conn.execute(sensitive_values.insert(),
                              seal_rows(self.keyring(), asset_id, secrets))

    def check_stored(self) -> None:
        """Refuse to commit rows whose sensitive values were stripped but never sealed."""
        if self._stash:
            kind, namespace, name, _ = next(iter(self._stash))
            raise InvalidInput(
                f"{kind}s in {namespace} have sensitive fields, which this write path "
                "cannot store: create or update them one by one instead",
                errors=[FieldError("/", f"sensitive fields of {kind}:{namespace}/{name}")],
            )

    # existing rows -----------------------------------------------------------------------
    def unseal(self, asset_id: int, asset: Asset) -> dict[str, Any]:
        """The asset's sealed values, opened (none when it shows no marker: no query)."""
        if not has_marker(asset):
            return {}
        return open_values(self.conn, self.keyring, [asset_id]).get(asset_id, {})

    def unseal_row(self, asset_id: int, meta: Mapping[str, Any],
                   custom: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`unseal` for a stored row's ``meta`` and ``custom``."""
        if not shows_marker(meta, custom):
            return {}
        return open_values(self.conn, self.keyring, [asset_id]).get(asset_id, {})

    def resync(self, namespace: str, kind: str) -> int:
        """Bring the stored ``kind`` rows of ``namespace`` in line with its sensitive fields
        as they are now (just changed in this transaction): a value of a field marked since
        it was written is sealed and its row holds the marker (for every reader, and in the
        search index, whose triggers follow the row), and a sealed value of a field no
        longer sensitive is put back in its row. Revisions stay: no value changed. Returns
        how many rows changed. The events written before keep what they recorded."""
        self._fields.pop((namespace, kind), None)  # read again: just changed
        changed = 0
        after = 0
        while True:
            rows = self.conn.execute(
                sa.select(assets.c.id, assets.c.meta, assets.c.custom)
                .where(assets.c.namespace == namespace, assets.c.kind == kind,
                       assets.c.id > after)
                .order_by(assets.c.id).limit(RESYNC_BATCH)).all()
            if not rows:
                return changed
            after = rows[-1].id
            sealed = open_values(self.conn, self.keyring, (
                row.id for row in rows
                if shows_marker(row.meta, row.custom)))
            for row in rows:
                changed += self._resync_row(row.id, namespace, kind, row.meta, row.custom,
                                            sealed.get(row.id, {}))

    def _resync_row(self, asset_id: int, namespace: str, kind: str, meta: dict[str, Any],
                    custom: dict[str, Any], sealed: dict[str, Any]) -> int:
        values = {"meta": dict(meta), "custom": dict(custom)}
        for path, plain in sealed.items():  # every sealed value back in place...
            section, key = split_field(path)
            if values[_COLUMN[section]].get(key) == MARKER:
                values[_COLUMN[section]][key] = plain
        probe = dict(values)
        secrets = self.strip(namespace, kind, probe)  # ...then today's fields taken out
        if probe["meta"] == meta and probe["custom"] == custom and secrets == sealed:
            return 0
        self.reseal(asset_id, namespace, kind, values, sealed)  # strips values as probe
        self.conn.execute(assets.update().where(assets.c.id == asset_id)
                          .values(meta=values["meta"], custom=values["custom"]))
        return 1

    def reseal(self, asset_id: int, namespace: str, kind: str, values: dict[str, Any],
               previous: Mapping[str, Any]) -> None:
        """Strip an updated row's sensitive values and replace its sealed ones."""
        secrets = self.strip(namespace, kind, values, previous)
        if previous or secrets:
            self.conn.execute(
                sensitive_values.delete().where(sensitive_values.c.asset_id == asset_id))
        if secrets:
            self.conn.execute(sensitive_values.insert(),
                              seal_rows(self.keyring(), asset_id, secrets))
