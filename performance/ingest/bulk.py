"""The set-based path of a CSV import on PostgreSQL: the file's text straight into the database.

The file's bytes go unparsed into an UNLOGGED table of text columns by one ``COPY … (FORMAT
csv)``, numbered as a spreadsheet numbers them; one query then checks every cell with casts
and joins (no Python per row), and one ``INSERT … SELECT … ON CONFLICT`` upserts the rows
with their types. Measured on 2,000,000 tickets, the Python parsing this replaces was a
fifth of the import (docs/performance.md).

Each column's check (``parsers.Sql``) accepts only what its Python parser accepts, with the
same value: canonical spellings only (``2026-01-05 10:00:00``, ``5``, ``true``), text
stripped of the same white space as ``str.strip``. A file this path does not accept in full
(a bad or unusual cell, an unknown employee, a duplicate, a row in a locked cycle, a ragged
line, a column without ``sql``) is rolled back to a savepoint and read again by the kind's
row-by-row path, which reports every error with its row and column exactly as before: the
set-based path never writes an error message of its own, so the two cannot disagree.
"""

import codecs
import datetime
import functools
import uuid
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from .readers import XLSX_SUFFIXES, csv_encoding

# every character str.strip() removes, so btrim() strips a cell exactly as parsers.text does
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
COPY_CHUNK = 1 << 20
# bytes (UTF-8) of a quote, of every white space but space and line ends, and of most other
# punctuation of U+2000–U+206F: a file holding none has only spaces to strip around cells
UNPLAIN = [b'"', b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f", b"\xc2\x85", b"\xc2\xa0"]
UNPLAIN += [b"\xe1\x9a\x80", b"\xe2\x80", b"\xe2\x81", b"\xe3\x80\x80"]


def applicable(path) -> bool:
    """A CSV file on PostgreSQL: the set-based path can try it."""
    return connection.vendor == "postgresql" and Path(path).suffix.lower() not in XLSX_SUFFIXES


def literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@functools.cache
def fixed_offset_from(zone_name: str) -> datetime.date | None:
    """The first date from which ``zone_name`` keeps one UTC offset until 2100, or None.

    Naive times of that span convert the same in PostgreSQL (``AT TIME ZONE``) as in Python
    (``replace(tzinfo=…)``, fold 0); around a daylight-saving change the two may differ, so
    naive times before that date take the row-by-row path.
    """
    zone = ZoneInfo(zone_name)
    day, last = datetime.date(2100, 1, 1), None
    offset = datetime.datetime.combine(day, datetime.time(12), zone).utcoffset()
    while day.year >= 1900:
        previous = day - datetime.timedelta(days=1)
        for hour in (0, 12):
            when = datetime.datetime.combine(previous, datetime.time(hour), zone)
            if when.utcoffset() != offset:
                return day if day < datetime.date(2100, 1, 1) else None
        day, last = previous, previous
    return last


class Cells:
    """SQL over one file's cells, each stripped once per row (``rows``): acceptable? its value?"""

    def __init__(self, index: dict[str, int], schema, raw: "RawFile"):
        self.index = index
        self.since = fixed_offset_from(settings.TIME_ZONE)
        self.kinds = {c.name: c.parse.sql.kind for c in schema.columns if c.name in index}
        self.raw_file = raw

    def rows(self) -> str:
        """The raw table as ``s``: every used cell stripped as ``str.strip`` would, computed once."""
        # Only spaces when the file holds no other white space nor quotes (so no line break
        # inside a cell): btrim's default, far cheaper than the whole Unicode set.
        chars = "" if self.raw_file.plain else f", {literal(WHITESPACE)}"
        cells = []
        for name, i in self.index.items():
            trimmed = f"btrim(c{i}{chars})"
            if self.kinds.get(name) == "datetime":
                trimmed = f"replace({trimmed}, 'T', ' ')"  # the one separator PostgreSQL prints
            cells.append(f"{trimmed} AS c{i}")
        # OFFSET 0 keeps the subquery as it is, so each cell is stripped once, not per use
        return f"(SELECT _row, {', '.join(cells)} FROM {self.raw_file.table} OFFSET 0) s"

    def raw(self, name: str) -> str | None:
        i = self.index.get(name)
        return None if i is None else f"s.c{i}"

    def check(self, column) -> str:
        """SQL true when the cell of ``column`` is one this path accepts."""
        v, sql = self.raw(column.name), column.parse.sql
        if v is None:
            return "true"
        present = f"{v} <> ''"
        if sql.kind == "str":
            ok = f"length({v}) <= {int(sql.params['max_length'])}"
        elif sql.kind == "choice":
            ok = f"lower({v}) IN ({', '.join(literal(c) for c in sql.params['values'])})"
        elif sql.kind == "bool":
            ok = f"lower({v}) IN ({', '.join(literal(c) for c in sorted(sql.params['true'] | sql.params['false']))})"
        elif sql.kind == "int":
            # canonical digits only (int() also takes "+5", "05", "1_0": those go row by row)
            low, high = sql.params["low"], sql.params["high"]
            ok = f"length({v}) <= 9 AND {v}::int::text = {v}"
            ok += "" if low is None else f" AND {v}::int >= {int(low)}"
            ok += "" if high is None else f" AND {v}::int <= {int(high)}"
        elif sql.kind == "decimal":
            # canonical (printed back the same: no sign, exponent or leading zero), within the
            # column's digits before and after the point and at least ``low``
            places, low = int(sql.params["places"]), sql.params["low"]
            whole = int(sql.params["max_digits"]) - places
            ok = f"length({v}) <= 40 AND {v}::numeric::text = {v} AND scale({v}::numeric) <= {places}"
            ok += f" AND abs({v}::numeric) < 1e{whole}"
            ok += "" if low is None else f" AND {v}::numeric >= {literal(low)}"
        elif sql.kind == "url":
            ok = "false"  # a link is checked by Python's URL validator, row by row; an empty cell passes here
        elif sql.kind == "datetime":
            if self.since is None:
                return "false"
            # YYYY-MM-DD HH:MM:SS (T already made a space) printed back the same by PostgreSQL:
            # no leap second, sign or space that its parser would forgive and Python would not
            ok = f"length({v}) = 19 AND {v}::timestamp::text = {v}"
            ok += f" AND {v} >= {literal(self.since.isoformat())} AND {v} < '2100'"
        else:
            return "false"
        if column.required:
            return f"({present} AND {ok})"
        return f"({v} = '' OR ({ok}))"

    def value(self, column) -> str:
        """SQL of the cell's value (the column's default when empty), for a cell ``check`` accepted."""
        v, sql = self.raw(column.name), column.parse.sql
        default = "NULL" if column.default is None else literal(column.default)
        if isinstance(column.default, bool):
            default = "true" if column.default else "false"
        if v is None:
            return default
        if sql.kind in ("str", "url"):
            typed = v
        elif sql.kind == "choice":
            cases = " ".join(f"WHEN {literal(k)} THEN {literal(c)}" for k, c in sql.params["values"].items())
            typed = f"CASE lower({v}) {cases} END"
        elif sql.kind == "bool":
            typed = f"lower({v}) IN ({', '.join(literal(c) for c in sorted(sql.params['true']))})"
        elif sql.kind == "int":
            typed = f"{v}::int"
        elif sql.kind == "decimal":
            typed = f"{v}::numeric"
        else:  # datetime, naive: in TIME_ZONE
            typed = f"({v}::timestamp AT TIME ZONE {literal(settings.TIME_ZONE)})"
        if column.required:
            return typed
        return f"CASE WHEN {v} = '' THEN {default} ELSE {typed} END"


@dataclass
class RawFile:
    """A CSV file's rows as text in an UNLOGGED table ``table``: ``_row`` (its row number) and c0…cN."""

    table: str
    rows: int
    plain: bool  # no white space but spaces and line ends, no quotes: cells need only spaces stripped


def copy_file(path, header_len: int) -> RawFile:
    """COPY the file's bytes (after its header) into a new UNLOGGED table of text columns.

    Row numbers count the header as row 1. Raises DatabaseError for what COPY cannot read as
    the header's columns (a ragged or blank line, an encoding error): the caller falls back.
    """
    path = Path(path)
    with path.open("rb") as fh:
        found = csv_encoding(fh)  # the readers' one rule (a refused file never gets here)
    skip = len(codecs.BOM_UTF8) if found == "utf-8-sig" else 0
    encoding = "GB18030" if found == "gb18030" else "UTF8"
    table = f"stage_raw_{uuid.uuid4().hex[:12]}"  # a staging table, named as the row-by-row path names them
    columns = ", ".join(f"c{i} text" for i in range(header_len))
    with connection.cursor() as cur:
        # created inside the import's transaction: a rollback removes it, like the final DROP
        cur.execute(f"CREATE UNLOGGED TABLE {table} (_row bigint GENERATED ALWAYS AS IDENTITY (START 2), {columns})")
        names = ", ".join(f"c{i}" for i in range(header_len))
        # FORCE_NOT_NULL: an empty cell is '' as the parsers see it, never NULL
        sql = (
            f"COPY {table} ({names}) FROM STDIN "
            f"(FORMAT csv, HEADER true, ENCODING {literal(encoding)}, FORCE_NOT_NULL ({names}))"
        )
        plain, tail = encoding == "UTF8", b""
        with path.open("rb") as fh, cur.cursor.copy(sql) as copy:
            fh.seek(skip)
            while chunk := fh.read(COPY_CHUNK):
                copy.write(chunk)
                if plain:
                    seen = tail + chunk
                    plain = not any(mark in seen for mark in UNPLAIN)
                    tail = chunk[-2:]
        rows = cur.rowcount
        cur.execute(f"ANALYZE {table}")
    return RawFile(table=table, rows=rows, plain=plain)


def attempt(fn):
    """Run ``fn()`` in a savepoint: its result, or None (everything it did undone) when it gives up
    (returns None) or the database refuses what it tried (a cast, a duplicate, a ragged line)."""
    try:
        with transaction.atomic():
            result = fn()
            if result is None:
                transaction.set_rollback(True)
            return result
    except DatabaseError:
        return None


def upsert(raw: RawFile, rows: str, model, key: str, values: dict[str, str], joins: str = "", keep: tuple = ()) -> int:
    """One ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE`` of every row; returns how many were new.

    ``values``: column → SQL over ``rows`` (``Cells.rows``, as ``s``) and ``joins``. Known rows are updated
    only where something changed, and ``keep`` columns (derived from the key) never are. A key
    that appears twice in the file makes PostgreSQL refuse the statement (a row cannot be
    affected twice), which sends the file to the row-by-row path to report the duplicate.
    """
    qn = connection.ops.quote_name
    target = qn(model._meta.db_table)
    names = list(values)
    changing = [n for n in names if n != key and n not in keep]
    sql = (
        f"WITH written AS (INSERT INTO {target} AS t ({', '.join(qn(n) for n in names)}) "
        f"SELECT {', '.join(values[n] for n in names)} FROM {rows} {joins} "
        f"ON CONFLICT ({qn(key)}) DO UPDATE SET {', '.join(f'{qn(n)} = excluded.{qn(n)}' for n in changing)} "
        f"WHERE ({', '.join(f't.{qn(n)}' for n in changing)}) IS DISTINCT FROM "
        f"({', '.join(f'excluded.{qn(n)}' for n in changing)}) "
        "RETURNING xmax = 0 AS created) "  # xmax 0: the row was inserted, not updated
        "SELECT count(*) FILTER (WHERE created) FROM written"
    )
    with connection.cursor() as cur:
        cur.execute(sql)
        created = cur.fetchone()[0]
        cur.execute(f"DROP TABLE {raw.table}")
    return created


def count_rejected(rows: str, checks: list[str], joins: str = "") -> int:
    """How many rows fail any of ``checks`` (SQL over ``rows`` as ``s``, and ``joins``); 0: all accepted."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {rows} {joins} WHERE NOT coalesce({' AND '.join(checks)}, false)")
        return cur.fetchone()[0]
