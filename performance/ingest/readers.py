"""Reading import files, the one reader of both doors (``import_data`` and the admin import).

CSV in UTF-8 (with or without BOM) or GB18030, and XLSX, streamed. Both give the header and
an iterator of (row number, values), skipping empty rows; row numbers count the header as
row 1, as a spreadsheet shows them.

Hostile files are refused before they cost much, each with a clear message:

- **Size**: a file over ``IMPORTS["MAX_FILE_MB"]`` (the command) or ``["MAX_UPLOAD_MB"]``
  (the admin) is refused before it is read.
- **XLSX**: the zip's declared sizes are summed before anything is unpacked; over
  ``XLSX_MAX_UNZIPPED_MB`` it is refused (a zip bomb unpacks a small file into gigabytes;
  Python's zipfile never unpacks an entry past its declared size). The workbook is opened
  read-only, and more than ``XLSX_MAX_ROWS`` rows or ``XLSX_MAX_COLUMNS`` columns are refused.
- **Encoding** (CSV), one rule for both doors: a file that starts with the UTF-8 byte-order
  mark is UTF-8; else a file that is valid UTF-8 throughout is UTF-8; else it is GB18030 when
  it decodes as GB18030 *and* reads as simplified Chinese (``reads_as_chinese``). GB18030
  assigns a character to almost any byte string, so decoding alone proves nothing: Big5 and
  Latin-1 files decode too, into kana, box drawing and rare ideographs. Any other file is
  refused with a message that says how to save it.
"""

import codecs
import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from performance.common.formatting import megabytes_text

from .schema import ImportFailed, RowError

MB = 1024 * 1024
CHUNK = MB
JUDGED_CHARS = 16 * MB  # GB18030 text judged on its first 16 M characters; the rest must decode
XLSX_SUFFIXES = (".xlsx", ".xlsm")


def limit(name: str) -> float:
    return settings.IMPORTS[name]


def refuse(message: str, row: int = 0):
    raise ImportFailed([RowError(row, "", message)])


def read_table(
    path, *, max_mb: float | None = None, fmt: str | None = None
) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """(header, iterator of (row number, values)) for a CSV or XLSX file.

    ``max_mb`` is the door's size limit (default: the command's, ``IMPORTS["MAX_FILE_MB"]``);
    ``fmt`` ("csv" or "xlsx") overrides the file name's suffix.
    """
    path = Path(path)
    if not path.exists():
        refuse(_("file %(path)s not found") % {"path": path})
    max_mb = limit("MAX_FILE_MB") if max_mb is None else max_mb
    size = path.stat().st_size
    if size > max_mb * MB:
        refuse(
            _("the file is %(size)s MB, more than the %(max)s MB an import may be")
            % {"size": _mb(size), "max": _mb(max_mb * MB)}
        )
    if fmt == "xlsx" or (fmt is None and path.suffix.lower() in XLSX_SUFFIXES):
        return _read_xlsx(path)
    return _read_csv(path)


def _mb(size: float) -> str:
    """Megabytes to two places, without trailing zeros: 0.08, 1.5, 100 (rounded once, half-up)."""
    return megabytes_text(size)


# --- CSV -------------------------------------------------------------------------------


def csv_encoding(fh) -> str:
    """The encoding of the binary file ``fh`` by the one rule (module docstring), or ImportFailed."""
    fh.seek(0)
    if fh.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
        return "utf-8-sig"
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("gb18030")()
    seen: set[str] = set()
    judged = 0
    try:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            text = decoder.decode(chunk)
            if judged < JUDGED_CHARS:
                seen.update(text)
                judged += len(text)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        refuse(not_utf8_or_gb18030())
    if not reads_as_chinese(seen):
        refuse(not_utf8_or_gb18030())
    return "gb18030"


def not_utf8_or_gb18030() -> str:
    return _(
        "the file is neither UTF-8 nor GB18030 text (it looks like another encoding, such as Big5 or "
        "Latin-1): save it from the spreadsheet as “CSV UTF-8” and import it again"
    )


GB2312_HANZI = range(0xB0, 0xF8)  # lead bytes of GB2312's two levels of hanzi
GB2312_SYMBOLS = range(0xA1, 0xA4)  # punctuation, numerals, full-width ASCII


def reads_as_chinese(chars) -> bool:
    """Whether the distinct characters of a GB18030 decoding read as simplified Chinese text.

    Each non-ASCII character is **common** (a GB2312 hanzi or GB2312 punctuation, numeral or
    full-width letter), **rare** (another CJK ideograph, CJK symbol or full-width form; Greek,
    Cyrillic and pinyin letters), or **foreign** (anything else: kana, box drawing, private-use
    and control characters, other scripts). The text reads as Chinese when nothing is foreign
    and rare characters are at most half as many as common ones, so names such as 朱镕基 (镕
    is outside GB2312) pass, while Big5 (whose most frequent characters land on kana, box
    drawing and rare ideographs) and Latin-1 (accented letters land on rare ideographs, or do
    not decode) do not. A very short Big5 text can still pass; the rule is stated in
    docs/imports.md.

    >>> reads_as_chinese(set("员工,王伟,朱镕基")), reads_as_chinese(set("陳大文".encode("big5").decode("gb18030")))
    (True, False)
    >>> reads_as_chinese(set("Renée".encode("latin-1").decode("gb18030")))
    False
    """
    common = rare = 0
    for ch in chars:
        if ch < "\x80":
            continue
        try:
            code = ch.encode("gb2312")
        except UnicodeEncodeError:
            code = b""
        if len(code) == 2 and (code[0] in GB2312_HANZI or code[0] in GB2312_SYMBOLS):
            common += 1
        elif len(code) == 2 and code[0] in (0xA6, 0xA7, 0xA8) or _cjk(ch):
            rare += 1
        else:
            return False
    return rare * 2 <= common


def _cjk(ch: str) -> bool:
    point = ord(ch)
    if 0x3000 <= point <= 0x303F or 0xFF00 <= point <= 0xFFEF or 0x2000 <= point <= 0x206F or point == 0x20AC:
        return True
    return unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))


def _read_csv(path: Path):
    raw = path.open("rb")
    try:
        encoding = csv_encoding(raw)
    except BaseException:
        raw.close()
        raise
    raw.seek(0)
    fh = io.TextIOWrapper(raw, encoding=encoding, newline="")
    reader = csv.reader(fh)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        fh.close()
        raise ImportFailed([RowError(1, "", _("malformed CSV: %(e)s") % {"e": exc})]) from exc
    if not header or not any(h.strip() for h in header):
        fh.close()
        refuse(_("the file is empty"), row=1)

    def rows():
        number = 1
        try:
            for values in reader:
                number += 1
                if any(v.strip() for v in values):
                    yield number, values
        except UnicodeDecodeError as exc:
            raise ImportFailed([RowError(number + 1, "", not_utf8_or_gb18030())]) from exc
        except csv.Error as exc:
            raise ImportFailed([RowError(number + 1, "", _("malformed CSV: %(e)s") % {"e": exc})]) from exc
        finally:
            fh.close()

    return [h.strip() for h in header], rows()


# --- XLSX ------------------------------------------------------------------------------


def check_xlsx_archive(path: Path) -> None:
    """Refuse a workbook whose parts would unzip to more than the limit, before unzipping any."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        refuse(_("not a readable XLSX file: %(e)s") % {"e": exc})
    unzipped = sum(entry.file_size for entry in entries)
    most = limit("XLSX_MAX_UNZIPPED_MB") * MB
    if unzipped > most or len(entries) > 10_000:
        refuse(
            _("the XLSX file would unzip to %(size)s MB, more than the %(max)s MB an import may be (a zip bomb?)")
            % {"size": _mb(unzipped), "max": _mb(most)}
        )


def _read_xlsx(path: Path):
    check_xlsx_archive(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFailed([RowError(0, "", _("not a readable XLSX file: %(e)s") % {"e": exc})]) from exc
    max_rows, max_columns = limit("XLSX_MAX_ROWS"), limit("XLSX_MAX_COLUMNS")
    try:
        ws = wb.worksheets[0]
        declared = ws.max_column  # from the sheet's <dimension>, which may be missing or lie
        width = declared if declared and declared <= max_columns else max_columns + 1
        it = ws.iter_rows(values_only=True, max_col=width)
        header = next(it, None)
    except Exception as exc:
        wb.close()
        raise ImportFailed([RowError(1, "", _("not a readable XLSX file: %(e)s") % {"e": exc})]) from exc
    if not header or not any(h not in (None, "") for h in header):
        wb.close()
        refuse(_("the file is empty"), row=1)
    _check_width(header, 1, max_columns, wb)

    def rows():
        try:
            for number, values in enumerate(it, start=2):
                if number > max_rows:
                    refuse(_("the sheet has more than %(n)s rows") % {"n": max_rows}, row=number)
                if any(v not in (None, "") for v in values):
                    _check_width(values, number, max_columns, wb)
                    yield number, ["" if v is None else v for v in values]
        finally:
            wb.close()

    return [str(h or "").strip() for h in header][:max_columns], rows()


def _check_width(values, number, max_columns, wb):
    if len(values) > max_columns and any(v not in (None, "") for v in values[max_columns:]):
        wb.close()
        refuse(_("the sheet has more than %(n)s columns") % {"n": max_columns}, row=number)


def numbered(rows, first: int = 2) -> Iterator[tuple[int, list]]:
    """(row number, values) of each non-empty row, numbered as a spreadsheet shows them from ``first``."""
    for number, values in enumerate(rows, start=first):
        values = ["" if v is None else v for v in values]
        if any(v.strip() if isinstance(v, str) else v != "" for v in values):
            yield number, values
