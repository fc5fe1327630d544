"""The service layer's encryption at rest, mixed into :class:`Registry`: which fields are
sensitive, who sees their plaintext, and key rotation.

Writing. A namespace marks fields of a kind sensitive (``schema.manage``, maintainer). From
then on each write seals their values (registry/_sealing.py): the asset's row, its events
and the search index hold :data:`MARKER` in their place.

Reading. Every read path answers the row as stored, so the marker is what a caller sees by
default, at no cost. The paths that show one asset or a page of them (get, list, versions,
create and update answers) then call :meth:`SensitiveService.reveal`: for a caller holding
``sensitive.read`` (maintainer) in the asset's namespace, and only for assets that show a
marker, the sealed values are opened and put back. Search hits, suggestions, lineage,
PROV, history and the event feed always show the marker (their cost stays per page, and
events never held the plaintext).

Keys. The keyring (governance/crypto.py) comes from ``MODELATLAS_ENCRYPTION_KEY`` or the key
file, re-read when the file changes (a rotation by another process). A rotation adds a new
current key to the file, re-encrypts the values batch by batch (one transaction each, so an
interrupted rotation resumes where it stopped), and drops the old keys once no value uses
them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from modelatlas.errors import FieldError, InvalidInput, Unavailable
from modelatlas.events import Action
from modelatlas.governance import crypto
from modelatlas.governance.grants import EVERYWHERE
from modelatlas.governance.policy import Decision, Target
from modelatlas.governance.principal import Principal
from modelatlas.kinds import SPECS
from modelatlas.refs import Ref, check_kind, check_namespace
from modelatlas.registry import _queries as q
from modelatlas.registry._sealing import MARKER, has_marker, open_values, with_plaintext
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.sensitive_types import (
    DataKey,
    KeyRotation,
    KeyStatus,
    SensitiveFields,
    SensitiveFieldsIn,
)
from modelatlas.registry.types import Asset, Page
from modelatlas.store.tables import sensitive_fields, sensitive_values

KEYS_REF = "keys:data"
Progress = Callable[[int, int], None]  # (re-encrypted so far, still to do)
P = TypeVar("P", bound=Page[Asset])


def check_field(kind: str, path: str, at: str) -> str:
    """A sensitive field path: ``custom.<key>``, or ``metadata.<key>`` naming a text field
    of the kind that no digest is derived from (the marker must fit where it stands, and
    a digest shown to everyone must not hash the secret)."""
    section, _, key = path.partition(".")
    if section not in ("metadata", "custom") or not key or len(path) > 200:
        raise InvalidInput.at(at, "metadata.<key> or custom.<key> (at most 200 characters)")
    if section == "custom":
        return path
    spec = SPECS[kind]
    if key not in spec.schema.model_fields:
        raise InvalidInput.at(at, f"{kind} metadata has no field {key}")
    if key in spec.digest_fields:
        raise InvalidInput.at(at, f"the {kind} digest is derived from {key}: it cannot be "
                              "sensitive")
    try:
        spec.schema.__pydantic_validator__.validate_assignment(
            spec.schema.model_construct(), key, MARKER)
    except ValidationError:
        raise InvalidInput.at(at, f"{key} is not a text field: only text fields and custom "
                              "fields can be sensitive") from None
    return path


class SensitiveService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def decide_access(self, conn: Connection, principal: Principal, action: str,
                          namespace: str, target: Target) -> Decision: ...

    # which fields ------------------------------------------------------------------------
    def set_sensitive_fields(self, namespace: str, kind: str,
                             body: SensitiveFieldsIn | dict[str, Any], *,
                             actor: str | None = None,
                             principal: Principal | None = None) -> SensitiveFields:
        """Mark fields of ``kind`` in ``namespace`` sensitive (``schema.manage``), in one
        transaction with the stored rows: values already stored are sealed now (their rows
        and the search index then hold the marker), and values of fields no longer listed
        go back into their rows. Earlier events keep what they recorded (mark fields
        before writing secrets)."""
        check_namespace(namespace)
        check_kind(kind)
        try:
            spec = body if isinstance(body, SensitiveFieldsIn) else \
                SensitiveFieldsIn.model_validate(body)
        except ValidationError as exc:
            raise InvalidInput.from_validation(exc) from None
        fields = sorted({check_field(kind, f, f"/fields/{i}") for i, f in enumerate(spec.fields)})
        self.authorize(principal, "schema.manage", namespace, ref=f"namespace:{namespace}")
        with self._write(self.acting(principal, actor)) as tx:
            table = sensitive_fields
            key = (table.c.namespace == namespace) & (table.c.kind == kind)
            values = {"fields": fields, "updated_at": tx.now, "updated_by": tx.actor}
            if tx.conn.execute(sa.select(table.c.kind).where(key)).first():
                tx.conn.execute(table.update().where(key).values(values))
            else:
                tx.conn.execute(table.insert().values(namespace=namespace, kind=kind, **values))
            resealed = tx.sealing.resync(namespace, kind)
            tx.emit(Action.SENSITIVE_FIELDS_SET, f"namespace:{namespace}",
                    {"kind": kind, "fields": fields, "assets_resealed": resealed}, None)
        return SensitiveFields(namespace=namespace, kind=kind, **values)

    def get_sensitive_fields(self, namespace: str, kind: str, *,
                             principal: Principal | None = None) -> SensitiveFields:
        """Which fields are sensitive (their names, not values): ``asset.read``."""
        check_namespace(namespace)
        check_kind(kind)
        self.authorize(principal, "asset.read", namespace, ref=f"namespace:{namespace}")
        with self.db.read() as conn:
            row = conn.execute(sa.select(sensitive_fields).where(
                sensitive_fields.c.namespace == namespace, sensitive_fields.c.kind == kind)
            ).first()
        if row is None:
            return SensitiveFields(namespace=namespace, kind=kind, fields=[])
        return SensitiveFields.model_validate(row._asdict())

    # reading -----------------------------------------------------------------------------
    def reveal(self, principal: Principal | None, items: Sequence[Asset]) -> list[Asset]:
        """``items`` with their sealed values opened where the caller holds
        ``sensitive.read`` in the asset's namespace; the others as they are (redacted)."""
        marked = [a for a in items if has_marker(a)]
        if not marked:
            return list(items)
        with self.db.read() as conn:
            caller = self._caller(principal)
            allowed = {ns for ns in {a.namespace for a in marked}
                       if caller.is_local or self.decide_access(
                           conn, caller, "sensitive.read", ns, Target()).allowed}
            ids = {a.ref: q.find_id(conn, Ref.parse(a.ref))
                   for a in marked if a.namespace in allowed}
            opened = open_values(conn, self.data_keyring,
                                 [i for i in ids.values() if i is not None])
        return [with_plaintext(a, opened.get(ids.get(a.ref) or 0, {})) for a in items]

    def reveal_one(self, principal: Principal | None, asset: Asset) -> Asset:
        return self.reveal(principal, [asset])[0] if has_marker(asset) else asset

    def reveal_page(self, principal: Principal | None, page: P) -> P:
        if not any(has_marker(a) for a in page.items):
            return page
        return page.model_copy(update={"items": self.reveal(principal, page.items)})

    # keys --------------------------------------------------------------------------------
    def _data_key_path(self) -> Path:
        return self.settings.encryption_key_file or self.settings.home / "keys" / "data.key"

    def data_keyring(self) -> crypto.Keyring:
        """The keyring, from the environment or the key file (re-read when the file
        changed). A key file is created on first need, unless values are already sealed:
        then the keys were lost, and a new file would only hide that."""
        secret = self.settings.encryption_key
        if secret is not None:
            ring: crypto.Keyring | None = self.__dict__.get("_data_keyring_env")
            if ring is None:
                ring = crypto.keyring_from_env(secret.get_secret_value())
                self.__dict__["_data_keyring_env"] = ring
            return ring
        path = self._data_key_path()
        stamp = _stamp(path)
        cached = self.__dict__.get("_data_keyring_file")
        if cached is not None and stamp is not None and cached[0] == stamp:
            return cached[1]  # type: ignore[no-any-return]
        if stamp is None:
            self._refuse_lost_keys(path)
        loaded = crypto.load_or_create_key_file(path)
        self.__dict__["_data_keyring_file"] = (_stamp(path), loaded)
        return loaded

    def _refuse_lost_keys(self, path: Path) -> None:
        with self.db.read() as conn:
            sealed = conn.execute(sa.select(sensitive_values.c.key_id).limit(1)).scalar()
        if sealed is not None:
            raise Unavailable(
                f"the data key file {path} is missing, but values are sealed (key {sealed})",
                errors=[FieldError(crypto.ENV_FILE, "restore the key file from a backup "
                                   "(or set MODELATLAS_ENCRYPTION_KEY)")])

    def _save_keyring(self, ring: crypto.Keyring) -> None:
        path = self._data_key_path()
        crypto.write_key_file(path, ring)
        self.__dict__["_data_keyring_file"] = (_stamp(path), ring)

    def check_data_keys(self) -> None:
        """Raise :class:`Unavailable` if values are sealed with keys the keyring does not
        hold (a lost or wrong key file or variable): at start-up, not at the first read.
        A registry with no sealed value needs no key (none is created here). A database
        that does not answer is not this check's to report: the server starts and
        ``/readyz`` says so; a value sealed with a lost key then fails where it is read."""
        try:
            with self.db.read() as conn:
                used = set(conn.execute(
                    sa.select(sensitive_values.c.key_id).distinct()).scalars())
        except sa.exc.OperationalError:
            return
        if not used:
            return
        missing = sorted(used - set(self.data_keyring().keys))
        if missing:
            raise Unavailable(
                f"values are sealed with data keys the keyring lacks: {', '.join(missing)}",
                errors=[FieldError(crypto.ENV_KEY if self.settings.encryption_key else
                                   crypto.ENV_FILE, "restore the keys from a backup")])

    def key_status(self, *, principal: Principal | None = None) -> KeyStatus:
        """Key ids and how many values each still seals (``encryption.manage`` on ``*``);
        raises if the keys cannot be loaded, so it is the start-up check too."""
        self.authorize(principal, "encryption.manage", EVERYWHERE, ref=KEYS_REF)
        ring = self.data_keyring()
        with self.db.read() as conn:
            counts: dict[str, int] = {
                str(key_id): int(n) for key_id, n in conn.execute(
                    sa.select(sensitive_values.c.key_id, sa.func.count())
                    .group_by(sensitive_values.c.key_id))}
        keys = [DataKey(key_id=k, current=k == ring.current, rows=int(counts.get(k, 0)))
                for k in sorted(ring.keys)]
        return KeyStatus(source=ring.source, current=ring.current, keys=keys,
                         unknown_key_ids=sorted(set(counts) - set(ring.keys)))

    def rotate_keys(self, *, batch: int = 500, max_batches: int | None = None,
                    progress: Progress | None = None, actor: str | None = None,
                    principal: Principal | None = None) -> KeyRotation:
        """Make a new current key and re-encrypt every value with it, ``batch`` values per
        transaction; ``max_batches`` stops early (run again to resume: no new key is made
        while values are still on an older one). ``encryption.manage`` on ``*``."""
        if not 1 <= batch <= 10_000:
            raise InvalidInput.at("/batch", "1-10000")
        self.authorize(principal, "encryption.manage", EVERYWHERE, ref=KEYS_REF)
        ring = self.data_keyring()
        new_key = None
        remaining = self._behind(ring.current)
        if remaining == 0 and ring.source == "file":
            ring = ring.rotated()
            self._save_keyring(ring)  # before any value uses it: never a value without key
            new_key = ring.current
            remaining = self._behind(ring.current)
        moved = batches = 0
        while remaining and (max_batches is None or batches < max_batches):
            with self._write(self.acting(principal, actor)) as tx:
                done = _reencrypt_batch(tx.conn, ring, batch)
            moved, batches, remaining = moved + done, batches + 1, max(remaining - done, 0)
            if progress is not None:
                progress(moved, remaining)
            if done < batch:
                break
        remaining = self._behind(ring.current)
        retired = sorted(set(ring.keys) - {ring.current}) if remaining == 0 else []
        if retired and ring.source == "file":
            self._save_keyring(ring.without(set(retired)))
        result = KeyRotation(new_key_id=new_key, current=ring.current, reencrypted=moved,
                             remaining=remaining, retired_key_ids=retired)
        with self._write(self.acting(principal, actor)) as tx:
            tx.emit(Action.KEYS_ROTATED, KEYS_REF, result.model_dump(), None)
        return result

    def _behind(self, current: str) -> int:
        with self.db.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(sensitive_values)
                                    .where(sensitive_values.c.key_id != current)).scalar_one())


def _reencrypt_batch(conn: Connection, ring: crypto.Keyring, batch: int) -> int:
    """Re-encrypt up to ``batch`` values not on the current key; return how many."""
    table = sensitive_values
    rows = conn.execute(
        sa.select(table).where(table.c.key_id != ring.current)
        .order_by(table.c.asset_id, table.c.field).limit(batch).with_for_update()
    ).all()
    for row in rows:
        plaintext = ring.open(crypto.Sealed(row.key_id, bytes(row.nonce), bytes(row.ciphertext)),
                              asset_id=row.asset_id, field_name=row.field)
        sealed = ring.seal(plaintext, asset_id=row.asset_id, field_name=row.field)
        conn.execute(table.update().where(
            table.c.asset_id == row.asset_id, table.c.field == row.field,
            table.c.key_id == row.key_id,
        ).values(key_id=sealed.key_id, nonce=sealed.nonce, ciphertext=sealed.ciphertext))
    return len(rows)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_mtime_ns, info.st_size
