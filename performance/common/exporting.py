"""Writing tables to CSV (UTF-8 with BOM, so Excel opens it cleanly) or XLSX, streamed."""

import csv
import datetime
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import Workbook

from .formatting import cell


def choose_format(path, fmt: str | None) -> str:
    fmt = (fmt or Path(path).suffix.lstrip(".") or "csv").lower()
    if fmt not in ("csv", "xlsx"):
        raise CommandError(f"unknown format {fmt!r}: use csv or xlsx")
    return fmt


@contextmanager
def whole_file(path):
    """The path to write a file to, so that ``path`` holds the whole file or nothing.

    Rows are written to a temporary file beside ``path`` and moved into place only when every
    row was written: a lost database or a full disk half-way leaves no half-written export.
    A device or pipe (``/dev/stdout``) is written directly.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        yield target
        return
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_table(path, header: list[str], rows, fmt: str = "csv", totals: list | None = None) -> int:
    """Write header + rows, all or nothing; returns the number of data rows. ``totals`` adds a last XLSX row."""
    with whole_file(path) as part:
        return _write(part, header, rows, fmt, totals)


def table_bytes(header: list[str], rows, fmt: str = "csv", totals: list | None = None) -> bytes:
    """The file ``write_table`` writes, as bytes (for a download)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"table.{fmt}"
        write_table(path, header, rows, fmt, totals)
        return path.read_bytes()


def _write(path, header, rows, fmt, totals) -> int:
    count = 0
    if fmt == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(header)
        for row in rows:
            ws.append([_xlsx(v) for v in row])
            count += 1
        if totals is not None:
            ws.append([_xlsx(v) for v in totals])
        wb.save(path)
        return count
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([cell(v) for v in row])
            count += 1
    return count


def _xlsx(value):
    """Amounts stay exact text-free numbers in XLSX; times become local naive (Excel has no zones)."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, bool) or value is None:
        return cell(value)
    return value
