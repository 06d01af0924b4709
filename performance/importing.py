"""File imports: CSV (UTF-8 with or without BOM, or GB18030) and XLSX, all rows or none.

Rows are streamed: each is parsed and checked in Python, then written to a staging
table (COPY on PostgreSQL), and checks that need every row (duplicates, references
to tickets) run as SQL over the staging table. Only when no row failed is the
staging table upserted into the real one, in the same transaction. Row numbers
count the header as row 1, as a spreadsheet shows them.
"""

import codecs
import contextlib
import csv
import datetime
import functools
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from .models import AppraisalCycle, Complaint, CycleState, Order, Ticket

MAX_LISTED = 50


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self):
        return _("row %(row)s, column %(column)s: %(message)s") % {
            "row": self.row, "column": self.column or "-", "message": self.message}


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError], total: int | None = None):
        self.errors = errors[:MAX_LISTED]
        self.total = total if total is not None else len(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class ErrorLog:
    def __init__(self):
        self.errors: list[RowError] = []
        self.total = 0

    def add(self, row, column, message):
        self.total += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(RowError(row, column, message))

    def raise_if_any(self):
        if self.total:
            raise ImportFailed(self.errors, self.total)


# --- reading files ---------------------------------------------------------------------


def _csv_encoding(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def read_table(path) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """(header, iterator of (row number, values)) for a CSV or XLSX file."""
    path = Path(path)
    if not path.exists():
        raise ImportFailed([RowError(0, "", _("file %(path)s not found") % {"path": path})])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    encoding = _csv_encoding(path)
    fh = io.TextIOWrapper(path.open("rb"), encoding=encoding, newline="")
    reader = csv.reader(fh)
    try:
        header = next(reader, None)
    except UnicodeDecodeError as exc:
        raise ImportFailed([RowError(1, "", _("the file is neither UTF-8 nor GB18030 (%(e)s)") % {"e": exc})]) from exc
    if not header or not any(h.strip() for h in header):
        raise ImportFailed([RowError(1, "", _("the file is empty"))])

    def rows():
        number = 1
        try:
            for values in reader:
                number += 1
                if any(v.strip() for v in values):
                    yield number, values
        except UnicodeDecodeError as exc:
            raise ImportFailed([RowError(number + 1, "", _("the file is neither UTF-8 nor GB18030 (%(e)s)") % {"e": exc})]) from exc
        except csv.Error as exc:
            raise ImportFailed([RowError(number + 1, "", _("malformed CSV: %(e)s") % {"e": exc})]) from exc
        finally:
            fh.close()

    return [h.strip() for h in header], rows()


def _read_xlsx(path: Path):
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFailed([RowError(0, "", _("not a readable XLSX file: %(e)s") % {"e": exc})]) from exc
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if not header or not any(h not in (None, "") for h in header):
        wb.close()
        raise ImportFailed([RowError(1, "", _("the file is empty"))])

    def rows():
        for number, values in enumerate(it, start=2):
            if any(v not in (None, "") for v in values):
                yield number, ["" if v is None else v for v in values]
        wb.close()

    return [str(h or "").strip() for h in header], rows()


# --- value parsers: each takes a cell and returns a value or raises ValueError -----------


def _text(v) -> str:
    if v.__class__ is str:
        return v.strip()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_datetime(v) -> datetime.datetime:
    """ISO 8601 (a space or T between date and time); without an offset it is in TIME_ZONE."""
    if isinstance(v, datetime.datetime):
        dt = v
    else:
        s = _text(v)
        try:
            dt = _fromisoformat(s)
        except ValueError:
            raise ValueError(_("%(v)r is not an ISO 8601 date-time") % {"v": s}) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_zone(settings.TIME_ZONE))
    return dt


_fromisoformat = datetime.datetime.fromisoformat


def parse_date(v) -> datetime.date:
    if isinstance(v, datetime.datetime):
        return v.date()
    if isinstance(v, datetime.date):
        return v
    try:
        return datetime.date.fromisoformat(_text(v))
    except ValueError:
        raise ValueError(_("%(v)r is not an ISO 8601 date (YYYY-MM-DD)") % {"v": _text(v)}) from None


def parse_money(v) -> Decimal:
    """A non-negative amount with at most two decimals; XLSX floats are read via str()."""
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise ValueError(_("%(v)r is not an amount") % {"v": v}) from None
    if not d.is_finite():
        raise ValueError(_("%(v)r is not an amount") % {"v": v})
    if d < 0:
        raise ValueError(_("an amount cannot be negative"))
    if d != d.quantize(Decimal("0.01")):
        raise ValueError(_("%(v)s has more than two decimal places") % {"v": d})
    return d.quantize(Decimal("0.01"))


def parse_decimal(v) -> Decimal:
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise ValueError(_("%(v)r is not a number") % {"v": v}) from None
    if not d.is_finite():
        raise ValueError(_("%(v)r is not a number") % {"v": v})
    return d


TRUE, FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}


def parse_bool(v) -> bool:
    if isinstance(v, bool):
        return v
    s = _text(v).lower()
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    raise ValueError(_("%(v)r is not true/false") % {"v": _text(v)})


def parse_int(low=None, high=None):
    def parse(v):
        s = _text(v)
        try:
            n = int(s)
        except ValueError:
            raise ValueError(_("%(v)r is not a whole number") % {"v": s}) from None
        if (low is not None and n < low) or (high is not None and n > high):
            if high is None:
                raise ValueError(_("%(n)s must be at least %(low)s") % {"n": n, "low": low})
            raise ValueError(_("%(n)s is outside %(low)s–%(high)s") % {"n": n, "low": low, "high": high})
        return n

    return parse


def parse_choice(choices):
    values = {c.lower(): c for c in choices}

    def parse(v):
        s = _text(v).lower()
        if s not in values:
            raise ValueError(_("%(v)r is not one of %(choices)s") % {"v": _text(v), "choices": ", ".join(choices)})
        return values[s]

    return parse


def parse_str(max_length):
    def parse(v):
        s = _text(v)
        if len(s) > max_length:
            raise ValueError(_("longer than %(n)s characters") % {"n": max_length})
        return s

    return parse


@dataclass(frozen=True)
class Column:
    name: str
    parse: object
    required: bool = False
    default: object = None
    field: str | None = None  # model attribute (defaults to name)


class Schema:
    """Columns, how to parse them and how to check a parsed row."""

    columns: tuple[Column, ...] = ()

    def check_header(self, header):
        errors = ErrorLog()
        seen = set()
        for h in header:
            if h in seen and h:
                errors.add(1, h, _("the column appears twice"))
            seen.add(h)
        for col in self.columns:
            if col.required and col.name not in header:
                errors.add(1, col.name, _("required column missing"))
        errors.raise_if_any()
        return {col.name: header.index(col.name) for col in self.columns if col.name in header}

    def parse(self, number, values, index, errors) -> dict | None:
        """A dict of parsed values, or None after logging every bad cell of the row."""
        row, ok, n = {}, True, len(values)
        for col in self.columns:
            i = index.get(col.name)
            raw = values[i] if i is not None and i < n else ""
            if raw is None or (raw.__class__ is str and (not raw or raw.isspace())):
                if col.required:
                    errors.add(number, col.name, _("required value missing"))
                    ok = False
                row[col.name] = col.default
                continue
            try:
                row[col.name] = col.parse(raw)
            except ValueError as exc:
                errors.add(number, col.name, str(exc))
                ok = False
        return row if ok else None


# --- writing: staging table, set-based checks, one upsert ------------------------------


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
            self._copy.set_types(["int4", *[_pg_type(f.db_type(connection)) for f in self.fields],
                                  *[_pg_type(t) for t in self.extra.values()]])
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
            self._cursor.executemany(f"INSERT INTO {self.table} VALUES ({marks})", self._batch)
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

    def upsert(self, key: str, select_extra: dict[str, str] | None = None, joins: str = ""):
        """INSERT … SELECT … ON CONFLICT (key) DO UPDATE: re-importing updates, never duplicates."""
        qn = connection.ops.quote_name
        target = self.model._meta.db_table
        cols = [f.column for f in self.fields]
        select = [f"s.{qn(c)}" for c in cols]
        names = list(cols)
        for name, expr in (select_extra or {}).items():
            names.append(name)
            select.append(expr)
        with connection.cursor() as cur:
            if self.pg:
                # An UPDATE of the rows that changed, then a plain INSERT of the new ones: cheaper
                # than ON CONFLICT's speculative insertion, and an unchanged re-import writes nothing.
                rows = f"SELECT {', '.join(f'{e} AS {qn(n)}' for e, n in zip(select, names))} FROM {self.table} s {joins}"
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
            else:
                updates = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in names if c != key)
                cur.execute(
                    f"INSERT INTO {qn(target)} ({', '.join(qn(c) for c in names)}) "
                    f"SELECT {', '.join(select)} FROM {self.table} s {joins} WHERE true "
                    f"ON CONFLICT ({qn(key)}) DO UPDATE SET {updates}"
                )
            cur.execute(f"DROP TABLE {self.table}")


PG_TYPES = {"timestamp with time zone": "timestamptz", "integer": "int4", "bigint": "int8", "smallint": "int2",
            "boolean": "bool", "varchar": "varchar", "text": "text", "numeric": "numeric", "date": "date"}


def _pg_type(db_type: str) -> str:
    return PG_TYPES[db_type.split("(")[0].strip()]


# --- locks ---------------------------------------------------------------------------------


PAY_LOCKED = ["approved", "exported", "paid"]  # commission.models.LOCKED_PAYOUT_STATES, without the import


def locked_cycles():
    """Finalized cycles, and cycles whose payouts finance has approved: their inputs are locked."""
    from django.db.models import Q

    return AppraisalCycle.objects.filter(Q(state=CycleState.FINALIZED) | Q(payouts__status__in=PAY_LOCKED)).distinct()


class LockedWindows:
    """Windows of locked cycles: data dated inside them cannot change."""

    def __init__(self):
        from .metrics import window_bounds

        self.windows = [(name, *window_bounds(s, e)) for name, s, e in locked_cycles().values_list("name", "start", "end")]

    def check(self, number, column, value, errors):
        if value is None:
            return
        for name, start, end in self.windows:
            if start <= value < end:
                errors.add(number, column, _("falls in cycle %(name)s, which is locked (finalized or paid out)")
                           % {"name": name})
                return


def employee_cache() -> dict[str, int]:
    from .models import Staff

    return dict(Staff.objects.values_list("employee_no", "id"))


def _resolve(cache, number, column, value, errors):
    if value in (None, ""):
        return None
    sid = cache.get(value)
    if sid is None:
        errors.add(number, column, _("unknown employee_no %(v)r") % {"v": value})
    return sid


# --- kinds ---------------------------------------------------------------------------------

CHANNELS = ["chat", "phone", "email", "social"]


class TicketSchema(Schema):
    columns = (
        Column("external_id", parse_str(64), required=True),
        Column("employee_no", parse_str(32), required=True),
        Column("kind", parse_choice(["inquiry", "support", "aftersales"]), default="support"),
        Column("channel", parse_choice(CHANNELS), default="chat"),
        Column("customer_id", parse_str(64), default=""),
        Column("created_at", parse_datetime, required=True),
        Column("first_response_at", parse_datetime),
        Column("avg_response_seconds", parse_int(0)),
        Column("resolved_at", parse_datetime),
        Column("reopened", parse_bool, default=False),
        Column("rating", parse_int(1, 5)),
    )


def import_tickets(header, rows) -> int:
    schema = TicketSchema()
    index = schema.check_header(header)
    errors, staff, locked = ErrorLog(), employee_cache(), LockedWindows()
    fields = ["external_id", "staff", "kind", "channel", "customer_id", "created_at", "first_response_at",
              "avg_response_seconds", "resolved_at", "reopened", "rating"]
    with Staging(Ticket, fields) as stage:
        for number, values in rows:
            r = schema.parse(number, values, index, errors)
            if r is None:
                continue
            sid = _resolve(staff, number, "employee_no", r["employee_no"], errors)
            for col in ("first_response_at", "resolved_at"):
                if r[col] is not None and r[col] < r["created_at"]:
                    errors.add(number, col, _("is before created_at"))
            locked.check(number, "created_at", r["created_at"], errors)
            if errors.total or sid is None:
                continue
            stage.write(number, [r["external_id"], sid, r["kind"], r["channel"], r["customer_id"], r["created_at"],
                                 r["first_response_at"], r["avg_response_seconds"], r["resolved_at"], r["reopened"],
                                 r["rating"]])
        stage.finish_writes()
        errors.raise_if_any()
        stage.duplicates("external_id", errors, "external_id")
        errors.raise_if_any()
        if locked.windows:
            _check_existing_locked(stage, "performance_ticket", "created_at", locked, errors)
        stage.upsert("external_id")
        return stage.count


def _check_existing_locked(stage, table, column, locked, errors):
    """A re-import must not move an existing row out of (or change one inside) a finalized cycle."""
    rows = stage.query(f"SELECT s._row, t.{column} FROM {{stage}} s JOIN {table} t ON t.external_id = s.external_id")
    for number, value in rows:
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
        locked.check(number, column, value, errors)
    errors.raise_if_any()


class OrderSchema(Schema):
    columns = (
        Column("external_id", parse_str(64), required=True),
        Column("employee_no", parse_str(32), required=True),
        Column("customer_id", parse_str(64), required=True),
        Column("product_category", parse_str(64), required=True),
        Column("amount", parse_money, required=True),
        Column("ordered_at", parse_datetime, required=True),
        Column("paid_at", parse_datetime),
        Column("ticket", parse_str(64)),
        Column("is_renewal", parse_bool, default=False),
        Column("term_end", parse_date),
        Column("refunded_amount", parse_money, default=Decimal("0.00")),
        Column("refunded_at", parse_datetime),
    )


def import_orders(header, rows) -> int:
    schema = OrderSchema()
    index = schema.check_header(header)
    errors, staff, locked = ErrorLog(), employee_cache(), LockedWindows()
    fields = ["external_id", "staff", "customer_id", "product_category", "amount", "ordered_at", "paid_at",
              "is_renewal", "term_end", "refunded_amount", "refunded_at"]
    with Staging(Order, fields, extra={"_ticket": "varchar(64)"}) as stage:
        for number, values in rows:
            r = schema.parse(number, values, index, errors)
            if r is None:
                continue
            sid = _resolve(staff, number, "employee_no", r["employee_no"], errors)
            if r["refunded_amount"] > r["amount"]:
                errors.add(number, "refunded_amount", _("is more than the amount"))
            if r["refunded_amount"] > 0 and r["refunded_at"] is None:
                errors.add(number, "refunded_at", _("required when refunded_amount is above 0"))
            if r["paid_at"] is None and r["refunded_amount"] > 0:
                errors.add(number, "paid_at", _("an unpaid order cannot be refunded"))
            locked.check(number, "paid_at", r["paid_at"], errors)
            locked.check(number, "refunded_at", r["refunded_at"], errors)
            if errors.total or sid is None:
                continue
            stage.write(number, [r["external_id"], sid, r["customer_id"], r["product_category"], r["amount"],
                                 r["ordered_at"], r["paid_at"], r["is_renewal"], r["term_end"], r["refunded_amount"],
                                 r["refunded_at"]], [r["ticket"] or None])
        stage.finish_writes()
        errors.raise_if_any()
        stage.duplicates("external_id", errors, "external_id")
        for number, ref in stage.query(
            "SELECT s._row, s._ticket FROM {stage} s LEFT JOIN performance_ticket t ON t.external_id = s._ticket "
            "WHERE s._ticket IS NOT NULL AND t.id IS NULL ORDER BY s._row LIMIT %s", [MAX_LISTED]
        ):
            errors.add(number, "ticket", _("unknown ticket %(v)r") % {"v": ref})
        errors.raise_if_any()
        if locked.windows:
            _check_existing_locked(stage, "performance_order", "paid_at", locked, errors)
        stage.upsert("external_id", {"ticket_id": "t.id"},
                     joins="LEFT JOIN performance_ticket t ON t.external_id = s._ticket")
        return stage.count


class ComplaintSchema(Schema):
    columns = (
        Column("external_id", parse_str(64), required=True),
        Column("employee_no", parse_str(32)),
        Column("handler", parse_str(32)),
        Column("customer_id", parse_str(64), default=""),
        Column("channel", parse_choice(CHANNELS), default="chat"),
        Column("priority", parse_choice(["low", "normal", "high", "urgent"]), required=True),
        Column("received_at", parse_datetime, required=True),
        Column("first_response_at", parse_datetime),
        Column("resolved_at", parse_datetime),
        Column("confirmed_at", parse_datetime),
        Column("summary", str, default=""),
    )


def import_complaints(header, rows) -> int:
    from .complaints import DueTimes

    schema = ComplaintSchema()
    index = schema.check_header(header)
    errors, staff, locked, due = ErrorLog(), employee_cache(), LockedWindows(), DueTimes()
    fields = ["external_id", "staff", "handler", "customer_id", "channel", "priority", "received_at",
              "first_response_at", "resolved_at", "confirmed_at", "summary", "first_response_due", "resolution_due"]
    with Staging(Complaint, fields) as stage:
        for number, values in rows:
            r = schema.parse(number, values, index, errors)
            if r is None:
                continue
            against = _resolve(staff, number, "employee_no", r["employee_no"], errors)
            handler = _resolve(staff, number, "handler", r["handler"], errors)
            for col in ("first_response_at", "resolved_at", "confirmed_at"):
                if r[col] is not None and r[col] < r["received_at"]:
                    errors.add(number, col, _("is before received_at"))
            if r["confirmed_at"] is not None and r["resolved_at"] is None:
                errors.add(number, "confirmed_at", _("a confirmation needs resolved_at"))
            locked.check(number, "received_at", r["received_at"], errors)
            if errors.total:
                continue
            first_due, resolution_due = due.for_complaint(r["priority"], r["received_at"])
            stage.write(number, [r["external_id"], against, handler, r["customer_id"], r["channel"], r["priority"],
                                 r["received_at"], r["first_response_at"], r["resolved_at"], r["confirmed_at"],
                                 r["summary"], first_due, resolution_due])
        stage.finish_writes()
        errors.raise_if_any()
        stage.duplicates("external_id", errors, "external_id")
        errors.raise_if_any()
        stage.upsert("external_id")
        return stage.count


KINDS = {
    "tickets": import_tickets,
    "orders": import_orders,
    "complaints": import_complaints,
}


def register_kind(name):
    def register(fn):
        KINDS[name] = fn
        return fn

    return register


def import_file(kind: str, path, *, dry_run=False) -> int:
    """Import a file of ``kind``; all rows or none. Returns the number of rows."""
    if kind not in KINDS:
        raise ImportFailed([RowError(0, "", _("unknown kind %(k)r; one of %(kinds)s") % {"k": kind, "kinds": ", ".join(KINDS)})])
    header, rows = read_table(path)
    with transaction.atomic():
        count = KINDS[kind](header, rows)
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run and count >= ANALYZE_AFTER and connection.vendor == "postgresql":
        # fresh planner statistics, so a close right after a big import gets good plans
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {KIND_TABLES.get(kind, 'performance_ticket')}")
    return count


ANALYZE_AFTER = 10_000
KIND_TABLES = {"tickets": "performance_ticket", "orders": "performance_order", "complaints": "performance_complaint"}


# --- small kinds: staff, KCI ratings, imported metrics (ORM, thousands of rows at most) ----


class StaffSchema(Schema):
    columns = (
        Column("employee_no", parse_str(32), required=True),
        Column("name", parse_str(100), required=True),
        Column("email", parse_str(254), default=""),
        Column("team", parse_str(100), required=True),
        Column("role", parse_choice(["agent", "presales", "aftersales", "sales", "operator", "manager"]), required=True),
        Column("manager", parse_str(32)),
        Column("hired_on", parse_date),
        Column("active", parse_bool, default=True),
    )


@register_kind("staff")
def import_staff(header, rows) -> int:
    from django.contrib.auth.models import Group, User
    from django.core.validators import validate_email

    from .models import Staff, Team

    schema = StaffSchema()
    index = schema.check_header(header)
    errors = ErrorLog()
    parsed, seen = [], {}
    for number, values in rows:
        r = schema.parse(number, values, index, errors)
        if r is None:
            continue
        if r["employee_no"] in seen:
            errors.add(number, "employee_no", _("duplicate of row %(first)s in this file") % {"first": seen[r["employee_no"]]})
        seen[r["employee_no"]] = number
        if r["email"]:
            try:
                validate_email(r["email"])
            except Exception:  # noqa: BLE001
                errors.add(number, "email", _("%(v)r is not an email address") % {"v": r["email"]})
        parsed.append((number, r))
    known = employee_cache()
    for number, r in parsed:
        if r["manager"] and r["manager"] not in known and r["manager"] not in seen:
            errors.add(number, "manager", _("unknown employee_no %(v)r") % {"v": r["manager"]})
        if r["manager"] == r["employee_no"]:
            errors.add(number, "manager", _("a member cannot manage themself"))
    errors.raise_if_any()

    teams = {t.name: t for t in Team.objects.all()}
    for _n, r in parsed:
        if r["team"] not in teams:
            teams[r["team"]] = Team.objects.create(name=r["team"])
    existing = {s.employee_no: s for s in Staff.objects.filter(employee_no__in=seen)}
    users = {u.username: u for u in User.objects.filter(username__in=seen)}
    new_users = [User(username=r["employee_no"], email=r["email"]) for _n, r in parsed
                 if r["employee_no"] not in users and r["employee_no"] not in existing]
    for u in new_users:
        u.set_unusable_password()
    User.objects.bulk_create(new_users)
    users.update({u.username: u for u in User.objects.filter(username__in=[u.username for u in new_users])})
    fields = ["name", "email", "team", "role", "hired_on", "active"]
    to_create, to_update = [], []
    for _n, r in parsed:
        values = {"name": r["name"], "email": r["email"], "team": teams[r["team"]], "role": r["role"],
                  "hired_on": r["hired_on"], "active": r["active"]}
        member = existing.get(r["employee_no"])
        if member is None:
            to_create.append(Staff(employee_no=r["employee_no"], user=users.get(r["employee_no"]), **values))
        else:
            for k, v in values.items():
                setattr(member, k, v)
            to_update.append(member)
    from simple_history.utils import bulk_create_with_history, bulk_update_with_history

    if to_create:
        bulk_create_with_history(to_create, Staff)
    if to_update:
        bulk_update_with_history(to_update, Staff, fields)
    ids = employee_cache()
    managed = [Staff(pk=ids[r["employee_no"]], manager_id=ids.get(r["manager"]) if r["manager"] else None)
               for _n, r in parsed]
    Staff.objects.bulk_update(managed, ["manager"], batch_size=1000)
    groups = {g.name: g for g in Group.objects.filter(name__in=["Staff", "Manager"])}
    through = User.groups.through
    links = []
    for _n, r in parsed:
        user = users.get(r["employee_no"])
        if user is None:
            continue
        links.append(through(user_id=user.pk, group_id=groups["Staff"].pk))
        if r["role"] == "manager":
            links.append(through(user_id=user.pk, group_id=groups["Manager"].pk))
    through.objects.bulk_create(links, ignore_conflicts=True)
    return len(parsed)


class _Cycles(dict):
    locked: set


def _cycle_cache(errors):
    cycles = _Cycles((c.name, c) for c in AppraisalCycle.objects.all())
    cycles.locked = set(locked_cycles().values_list("pk", flat=True))
    return cycles


def _cycle_for(cycles, number, name, errors):
    cycle = cycles.get(name)
    if cycle is None:
        errors.add(number, "cycle", _("unknown cycle %(v)r") % {"v": name})
    elif cycle.pk in cycles.locked:
        errors.add(number, "cycle", _("cycle %(v)s is locked (finalized or paid out)") % {"v": name})
        return None
    return cycle


class KciSchema(Schema):
    columns = (
        Column("cycle", parse_str(100), required=True),
        Column("employee_no", parse_str(32), required=True),
        Column("indicator", parse_str(32), required=True),
        Column("rating", parse_decimal, required=True),
        Column("comment", str, default=""),
        Column("rated_by", parse_str(32)),
    )


@register_kind("kci")
def import_kci(header, rows) -> int:
    from .models import Indicator, KciRating, Staff
    from .scoring import frac

    schema = KciSchema()
    index = schema.check_header(header)
    errors, cycles, staff = ErrorLog(), _cycle_cache(None), employee_cache()
    roles = dict(Staff.objects.values_list("id", "role"))
    scales = {}  # (cycle id, role, indicator) -> scale
    for cycle_id, role, code, params in Indicator.objects.filter(
        rule="rating", section__template__cycles__isnull=False
    ).values_list("section__template__cycles", "section__template__role", "code", "params"):
        scales[(cycle_id, role, code)] = frac(params.get("scale", 5))
    parsed, seen = [], {}
    for number, values in rows:
        r = schema.parse(number, values, index, errors)
        if r is None:
            continue
        cycle = _cycle_for(cycles, number, r["cycle"], errors)
        sid = _resolve(staff, number, "employee_no", r["employee_no"], errors)
        rater = _resolve(staff, number, "rated_by", r["rated_by"], errors)
        if cycle is None or sid is None:
            continue
        scale = scales.get((cycle.pk, roles[sid], r["indicator"]))
        if scale is None:
            errors.add(number, "indicator", _("%(v)r is not a rated (KCI) indicator of this member's template in %(c)s")
                       % {"v": r["indicator"], "c": cycle.name})
            continue
        if not 0 <= r["rating"] <= scale:
            errors.add(number, "rating", _("%(v)s is outside 0–%(s)s") % {"v": r["rating"], "s": scale})
        key = (cycle.pk, sid, r["indicator"])
        if key in seen:
            errors.add(number, "indicator", _("duplicate of row %(first)s in this file") % {"first": seen[key]})
        seen[key] = number
        parsed.append((cycle, sid, r, rater))
    errors.raise_if_any()
    existing = {(k.cycle_id, k.staff_id, k.indicator): k for k in KciRating.objects.filter(
        cycle__in={c.pk for c, *_ in parsed}, staff_id__in={s for _c, s, *_ in parsed})}
    from simple_history.utils import bulk_create_with_history, bulk_update_with_history

    new, changed = [], []
    for cycle, sid, r, rater in parsed:
        obj = existing.get((cycle.pk, sid, r["indicator"]))
        if obj is None:
            new.append(KciRating(cycle=cycle, staff_id=sid, indicator=r["indicator"], rating=r["rating"],
                                 comment=r["comment"], rated_by_id=rater))
        else:
            obj.rating, obj.comment, obj.rated_by_id = r["rating"], r["comment"], rater
            changed.append(obj)
    if new:
        bulk_create_with_history(new, KciRating)
    if changed:
        bulk_update_with_history(changed, KciRating, ["rating", "comment", "rated_by"])
    return len(parsed)


class MetricSchema(Schema):
    columns = (
        Column("cycle", parse_str(100), required=True),
        Column("employee_no", parse_str(32), required=True),
        Column("metric", parse_str(64), required=True),
        Column("value", parse_decimal, required=True),
    )


@register_kind("metrics")
def import_metrics(header, rows) -> int:
    from .metrics import COMPUTED_METRICS
    from .models import MetricSource, MetricValue

    schema = MetricSchema()
    index = schema.check_header(header)
    errors, cycles, staff = ErrorLog(), _cycle_cache(None), employee_cache()
    parsed, seen = [], {}
    for number, values in rows:
        r = schema.parse(number, values, index, errors)
        if r is None:
            continue
        cycle = _cycle_for(cycles, number, r["cycle"], errors)
        sid = _resolve(staff, number, "employee_no", r["employee_no"], errors)
        if r["metric"] in COMPUTED_METRICS:
            errors.add(number, "metric", _("%(v)s is computed from data and cannot be imported") % {"v": r["metric"]})
        if cycle is None or sid is None:
            continue
        key = (cycle.pk, sid, r["metric"])
        if key in seen:
            errors.add(number, "metric", _("duplicate of row %(first)s in this file") % {"first": seen[key]})
        seen[key] = number
        parsed.append((cycle, sid, r))
    errors.raise_if_any()
    for cycle, sid, r in parsed:
        MetricValue.objects.update_or_create(
            cycle=cycle, staff_id=sid, metric=r["metric"],
            defaults={"value": r["value"], "source": MetricSource.IMPORTED, "numerator": None, "denominator": None},
        )
    return len(parsed)
