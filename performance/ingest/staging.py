"""A staging table per import: rows are written to it (binary COPY on PostgreSQL), checked with
set-based SQL, then upserted into the real table in the same transaction."""

import contextlib
import uuid

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from performance.common.bulk import pg_type

from .schema import MAX_LISTED, ErrorLog


class Staging:
    """A temporary table shaped like the target's columns, plus the source row number."""

    def __init__(self, model, fields: list[str], extra: dict[str, str] | None = None):
        self.model = model
        self.fields = [model._meta.get_field(f) for f in fields]
        self.extra = extra or {}
        self.table = f"stage_{model._meta.db_table}_{uuid.uuid4().hex[:12]}"
        self.pg = connection.vendor == "postgresql"
        self.count = 0

    @property
    def columns(self):
        return ["_row", *[f.column for f in self.fields], *self.extra]

    def __enter__(self):
        qn = connection.ops.quote_name
        cols = ["_row integer"] + [f"{qn(f.column)} {f.db_type(connection)}" for f in self.fields]
        cols += [f"{qn(name)} {sqltype}" for name, sqltype in self.extra.items()]
        cols.append("_action varchar(1)")  # what the upsert does to the row: "+" new, "~" changed (history)
        with connection.cursor() as cur:
            # PostgreSQL: an UNLOGGED table, not a TEMP one (temp tables live in the small
            # per-session temp_buffers and spill to disk). Created inside the import's
            # transaction, it disappears with a rollback as well as with the final DROP.
            kind = "UNLOGGED" if self.pg else "TEMP"
            cur.execute(f"CREATE {kind} TABLE {self.table} ({', '.join(cols)})")
        self._cursor = connection.cursor()
        if self.pg:
            # binary COPY: timestamps and numbers travel as machine values, not text to format and parse
            self._copy_cm = self._cursor.cursor.copy(
                f"COPY {self.table} ({', '.join(qn(c) for c in self.columns)}) FROM STDIN (FORMAT BINARY)"
            )
            self._copy = self._copy_cm.__enter__()
            self._copy.set_types(
                [
                    "int4",
                    *[pg_type(f.db_type(connection)) for f in self.fields],
                    *[pg_type(t) for t in self.extra.values()],
                ]
            )
        else:
            self._batch = []
        return self

    def write(self, number: int, values: list, extra: list = ()):
        self.count += 1
        if self.pg:
            self._copy.write_row((number, *values, *extra))
            return
        prepped = [f.get_db_prep_value(v, connection) for f, v in zip(self.fields, values)]
        self._batch.append((number, *prepped, *extra))
        if len(self._batch) >= 5000:
            self._flush()

    def _flush(self):
        if self._batch:
            marks = ", ".join(["%s"] * len(self.columns))
            names = ", ".join(connection.ops.quote_name(c) for c in self.columns)
            self._cursor.executemany(f"INSERT INTO {self.table} ({names}) VALUES ({marks})", self._batch)
            self._batch = []

    def finish_writes(self):
        if self.pg:
            self._copy_cm.__exit__(None, None, None)
            self._cursor.execute(f"ANALYZE {self.table}")
        else:
            self._flush()

    def __exit__(self, *exc):
        self._cursor.close()
        if exc[0] is not None and self.pg:
            with contextlib.suppress(Exception):  # the original error is the one to report
                self._copy_cm.__exit__(*exc)
        return False

    def query(self, sql, params=()):
        with connection.cursor() as cur:
            cur.execute(sql.format(stage=self.table), params)
            return cur.fetchall()

    def duplicates(self, key: str, errors: ErrorLog, label: str):
        rows = self.query(
            f"SELECT s._row, f.first FROM {{stage}} s JOIN (SELECT {key}, MIN(_row) AS first FROM {{stage}} "
            f"GROUP BY {key} HAVING COUNT(*) > 1) f ON f.{key} = s.{key} WHERE s._row <> f.first ORDER BY s._row LIMIT %s",
            [MAX_LISTED],
        )
        for row, first in rows:
            errors.add(row, label, _("duplicate of row %(first)s in this file") % {"first": first})

    def upsert(self, key: str, select_extra: dict[str, str] | None = None, joins: str = "", history=None) -> int:
        """Insert the new rows and update the known ones (by ``key``): re-importing never duplicates.

        ``history = (user, reason)``: the model's django-simple-history records for every row
        the upsert adds or changes (not for unchanged ones), written by one INSERT … SELECT.
        Returns how many rows were new.
        """
        qn = connection.ops.quote_name
        target = self.model._meta.db_table
        cols = [f.column for f in self.fields]
        select = [f"s.{qn(c)}" for c in cols]
        names = list(cols)
        for name, expr in (select_extra or {}).items():
            names.append(name)
            select.append(expr)
        if history is not None:
            self._mark_changes(key, select, names, joins)
        with connection.cursor() as cur:
            if self.pg:
                # An UPDATE of the rows that changed, then a plain INSERT of the new ones: cheaper
                # than ON CONFLICT's speculative insertion, and an unchanged re-import writes nothing.
                rows = (
                    f"SELECT {', '.join(f'{e} AS {qn(n)}' for e, n in zip(select, names))} FROM {self.table} s {joins}"
                )
                others = [c for c in names if c != key]
                cur.execute(
                    f"UPDATE {qn(target)} t SET {', '.join(f'{qn(c)} = n.{qn(c)}' for c in others)} FROM ({rows}) n "
                    f"WHERE t.{qn(key)} = n.{qn(key)} AND ({', '.join(f't.{qn(c)}' for c in others)}) "
                    f"IS DISTINCT FROM ({', '.join(f'n.{qn(c)}' for c in others)})"
                )
                cur.execute(
                    f"INSERT INTO {qn(target)} ({', '.join(qn(c) for c in names)}) SELECT * FROM ({rows}) n "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {qn(target)} t WHERE t.{qn(key)} = n.{qn(key)})"
                )
                created = cur.rowcount
            else:
                cur.execute(
                    f"SELECT COUNT(*) FROM {self.table} s WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {qn(target)} t WHERE t.{qn(key)} = s.{qn(key)})"
                )
                created = cur.fetchone()[0]
                updates = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in names if c != key)
                cur.execute(
                    f"INSERT INTO {qn(target)} ({', '.join(qn(c) for c in names)}) "
                    f"SELECT {', '.join(select)} FROM {self.table} s {joins} WHERE true "
                    f"ON CONFLICT ({qn(key)}) DO UPDATE SET {updates}"
                )
            if history is not None:
                self._write_history(key, *history)
            cur.execute(f"DROP TABLE {self.table}")
        return created

    def _mark_changes(self, key, select, names, joins) -> None:
        """Mark the staged rows the upsert will add ("+") or change ("~"), before it runs."""
        qn = connection.ops.quote_name
        target = qn(self.model._meta.db_table)
        others = [c for c in names if c != key]
        rows = (
            f"SELECT s._row, {', '.join(f'{e} AS {qn(n)}' for e, n in zip(select, names))} FROM {self.table} s {joins}"
        )
        differs = " OR ".join(f"t.{qn(c)} IS DISTINCT FROM n.{qn(c)}" for c in others) or "false"
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {self.table} SET _action = '+' WHERE NOT EXISTS "
                f"(SELECT 1 FROM {target} t WHERE t.{qn(key)} = {self.table}.{qn(key)})"
            )
            cur.execute(
                f"UPDATE {self.table} SET _action = '~' WHERE _row IN (SELECT n._row FROM ({rows}) n "
                f"JOIN {target} t ON t.{qn(key)} = n.{qn(key)} WHERE {differs})"
            )

    def _write_history(self, key, user, reason) -> None:
        qn = connection.ops.quote_name
        history = self.model.history.model
        own = ("history_id", "history_date", "history_change_reason", "history_type", "history_user")
        tracked = [f.column for f in history._meta.concrete_fields if f.name not in own]
        columns = [*tracked, "history_date", "history_type", "history_user_id", "history_change_reason"]
        when = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {qn(history._meta.db_table)} ({', '.join(map(qn, columns))}) "
                f"SELECT {', '.join(f't.{qn(c)}' for c in tracked)}, %s, s._action, %s, %s "
                f"FROM {qn(self.model._meta.db_table)} t JOIN {self.table} s ON t.{qn(key)} = s.{qn(key)} "
                "WHERE s._action IS NOT NULL",
                [when, getattr(user, "pk", user), reason],
            )
