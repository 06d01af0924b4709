"""The one writer of tables: CSV (UTF-8 with BOM, so Excel opens it cleanly) or XLSX, streamed.

Every export goes through ``write_table``: the commands, the admin's results and payroll
downloads, the statement CSV and django-import-export's admin exports (``TableCSV`` and
``TableXLSX``). So one rule holds for all of them:

- **No formulas from data.** A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or
  a carriage return could run as a formula when HR or payroll opens the file (OWASP "CSV
  injection"). In CSV it gets a leading apostrophe (``'=HYPERLINK(…)``), as OWASP
  recommends; in XLSX it is an explicit text cell marked with Excel's quote prefix (what
  Excel itself stores for a typed leading apostrophe), so it shows as written and never
  runs, even after editing.
- **Numbers stay numbers.** Values are typed by what they are, not by their text: a
  ``Decimal`` or ``int`` is a number (in CSV its exact text, ``format(d, "f")``; in XLSX a
  numeric cell shown with as many decimals as it has), dates and times are dates in XLSX
  and ISO 8601 in CSV. Only ``str`` values are ever neutralised, so legitimate data keeps
  the contract's columns byte for byte.
- **XLSX that reads well**: a named sheet, a bold frozen header, column widths that fit the
  first rows, and an optional bold totals row.
"""

import csv
import datetime
import io
import os
import tempfile
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from django.core.management.base import CommandError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from import_export.formats.base_formats import Format
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .formatting import cell

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
WIDTH_SAMPLE = 200  # rows looked at for column widths; the rest stream straight to the file
MAX_WIDTH = 60
SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def neutralised(text: str) -> str:
    """Text that a spreadsheet shows as written instead of running it as a formula.

    >>> neutralised("=HYPERLINK(\\"http://x\\")"), neutralised("-1+2"), neutralised("@SUM(A1)"), neutralised("王伟")
    ('\\'=HYPERLINK("http://x")', "'-1+2", "'@SUM(A1)", '王伟')
    """
    return "'" + text if text.startswith(FORMULA_LEADS) else text


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


def write_table(
    target, header: list[str], rows, fmt: str = "csv", totals: list | None = None, sheet: str = "Data"
) -> int:
    """Write header + rows to ``target`` (a path, written whole or not at all, or a binary file);
    returns the number of data rows.

    ``totals`` is a last row that only XLSX gets (the contract's CSV files have none);
    ``sheet`` names the XLSX sheet.
    """
    if isinstance(target, (str, Path)):
        with whole_file(target) as part:
            return _write(part, header, rows, fmt, totals, sheet)
    return _write(target, header, rows, fmt, totals, sheet)


def _write(target, header, rows, fmt, totals, sheet) -> int:
    if fmt == "xlsx":
        return _write_xlsx(target, header, rows, totals, sheet)
    if isinstance(target, (str, Path)):
        with open(target, "w", encoding="utf-8-sig", newline="") as fh:
            return _write_csv(fh, header, rows)
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
    try:
        return _write_csv(text, header, rows)
    finally:
        text.flush()
        text.detach()


def table_bytes(header, rows, fmt: str = "csv", totals=None, sheet: str = "Data") -> bytes:
    """The table as the bytes of a CSV or XLSX file."""
    buffer = io.BytesIO()
    write_table(buffer, header, rows, fmt, totals=totals, sheet=sheet)
    return buffer.getvalue()


def table_response(filename: str, header, rows, fmt: str = "csv", totals=None, sheet: str = "Data") -> HttpResponse:
    """A download of the table (``filename`` without its extension)."""
    response = HttpResponse(table_bytes(header, rows, fmt, totals, sheet), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.{fmt}")
    return response


def _write_csv(fh, header, rows) -> int:
    writer = csv.writer(fh)
    writer.writerow([_csv(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([_csv(v) for v in row])
        count += 1
    return count


def _csv(value):
    if value.__class__ is str:
        return neutralised(value)
    return cell(value)


def _write_xlsx(target, header, rows, totals, sheet) -> int:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title(sheet))
    rows = iter(rows)
    sample = []
    for row in rows:
        sample.append(row)
        if len(sample) >= WIDTH_SAMPLE:
            break
    for i, width in enumerate(column_widths(header, sample + ([totals] if totals else [])), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    ws.append([_xlsx(ws, h, font=bold) for h in header])
    count = 0
    for source in (sample, rows):
        for row in source:
            ws.append([_xlsx(ws, v) for v in row])
            count += 1
    if totals is not None:
        ws.append([_xlsx(ws, v, font=bold) for v in totals])
    wb.save(target)
    return count


def _xlsx(ws, value, font=None):
    """A typed XLSX cell: numbers as numbers, times as local times (Excel has no zones), text never a formula."""
    if value is None:
        return None
    if value.__class__ is str:
        c = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))  # control characters XLSX cannot hold
        c.data_type = "s"  # never a formula, whatever the text
        if value.startswith(FORMULA_LEADS):
            c.quotePrefix = True
    elif isinstance(value, bool):
        c = WriteOnlyCell(ws, value=cell(value))
    elif isinstance(value, Decimal):
        c = WriteOnlyCell(ws, value=value)
        c.number_format = number_format(value)
    elif isinstance(value, datetime.datetime):
        c = WriteOnlyCell(ws, value=timezone.localtime(value).replace(tzinfo=None))
        c.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, datetime.date):
        c = WriteOnlyCell(ws, value=value)
        c.number_format = "yyyy-mm-dd"
    elif isinstance(value, (int, float)):
        c = WriteOnlyCell(ws, value=value)
    else:
        c = WriteOnlyCell(ws, value=value)
        if c.data_type == "f":
            c.data_type = "s"
            c.quotePrefix = True
    if font is not None:
        c.font = font
    return c


def number_format(value: Decimal) -> str:
    """As many decimals as the value carries, with thousands separators.

    >>> number_format(Decimal("1234.50")), number_format(Decimal("0.64")), number_format(Decimal("12"))
    ('#,##0.00', '#,##0.00', '#,##0')
    >>> number_format(Decimal("0.1234567"))
    '#,##0.0000000'
    """
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return "#,##0" + ("." + "0" * min(places, 10) if places else "")


def column_widths(header, rows) -> list[float]:
    """Widths (in Excel's character units) that fit the header and ``rows``; CJK characters count twice."""
    widths = [_text_width(str(h)) for h in header]
    for row in rows:
        for i, value in enumerate(row):
            if i < len(widths):
                widths[i] = max(widths[i], _text_width(_shown(value)))
    return [min(MAX_WIDTH, w + 2) for w in widths]


def _shown(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:,f}"
    if isinstance(value, datetime.datetime):
        return "0000-00-00 00:00:00"
    return str(cell(value))


def _text_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def sheet_title(name: str) -> str:
    """A valid sheet name: at most 31 characters, none of ``[]:*?/\\``."""
    return (str(name).translate(SHEET_FORBIDDEN).strip() or "Data")[:31]


class TableFormat(Format):
    """A django-import-export export format that writes through ``write_table``.

    The dataset's ``title`` names the sheet; a ``totals`` attribute on the dataset (a row)
    becomes the XLSX totals row.
    """

    fmt = "csv"

    def get_title(self):
        return self.fmt

    def export_data(self, dataset, **kwargs):
        return table_bytes(
            list(dataset.headers or []),
            (list(row) for row in dataset),
            self.fmt,
            totals=getattr(dataset, "totals", None),
            sheet=dataset.title or "Data",
        )

    def get_extension(self):
        return self.fmt

    def get_content_type(self):
        return CONTENT_TYPES[self.fmt]

    def can_export(self):
        return True


class TableCSV(TableFormat):
    fmt = "csv"


class TableXLSX(TableFormat):
    fmt = "xlsx"


EXPORT_FORMATS = [TableCSV, TableXLSX]
