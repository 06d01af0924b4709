"""Reading import files: CSV (UTF-8 with or without BOM, or GB18030) and XLSX, streamed.

Both give the header and an iterator of (row number, values), skipping empty rows; row
numbers count the header as row 1, as a spreadsheet shows them.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from .schema import ImportFailed, RowError


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
            raise ImportFailed(
                [RowError(number + 1, "", _("the file is neither UTF-8 nor GB18030 (%(e)s)") % {"e": exc})]
            ) from exc
        except csv.Error as exc:
            raise ImportFailed([RowError(number + 1, "", _("malformed CSV: %(e)s") % {"e": exc})]) from exc
        finally:
            fh.close()

    return [h.strip() for h in header], rows()


def _read_xlsx(path: Path):
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


def numbered(rows, first: int = 2) -> Iterator[tuple[int, list]]:
    """(row number, values) of each non-empty row, numbered as a spreadsheet shows them from ``first``."""
    for number, values in enumerate(rows, start=first):
        values = ["" if v is None else v for v in values]
        if any(v.strip() if isinstance(v, str) else v != "" for v in values):
            yield number, values
