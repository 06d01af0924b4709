"""Hostile and foreign files at both import doors: refused with a clear message, nothing written,
no temporary file left behind, memory flat.

Before, uploads had no limit (a 1 GB CSV or a small XLSX zip bomb tied up a worker), the admin
import took UTF-8 only (a GB18030 file failed with a UnicodeDecodeError), and the command read
any non-UTF-8 file as GB18030 (Big5 and Latin-1 files imported garbled).
"""

import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from performance.models import Staff
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADER = "employee_no,name,email,team,role,manager,hired_on,active\n"
NAMES = "王伟,朱镕基,李娜,陈大文,张三丰,欧阳修,司马光,诸葛亮"


def org_file(names=NAMES, team="客服一组") -> str:
    return HEADER + "".join(f"E{i:03d},{n},,{team},agent,,2025-01-01,true\n" for i, n in enumerate(names.split(",")))


@pytest.fixture
def limits(settings, tmp_path):
    """Small limits, and every temporary directory an import may use inside tmp_path."""
    settings.IMPORTS = {
        **settings.IMPORTS,
        "MAX_UPLOAD_MB": 0.05,
        "MAX_FILE_MB": 0.05,
        "XLSX_MAX_UNZIPPED_MB": 20,
        "TMP_DIR": str(tmp_path / "imports"),
    }
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # larger uploads go to a temporary file
    (tmp_path / "uploads").mkdir()
    return tmp_path


def leftovers(tmp_path) -> list:
    return [p.name for d in ("imports", "uploads") if (tmp_path / d).exists() for p in (tmp_path / d).iterdir()]


@pytest.fixture
def hr(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def admin_preview(client, body: bytes, name="org.csv", fmt="0"):
    return client.post(
        "/admin/performance/staff/import/",
        {"import_file": SimpleUploadedFile(name, body), "format": fmt, "resource": "0"},
    )


def file_errors(response) -> list[str]:
    return response.context["form"].errors.get("import_file", [])


def zip_bomb(path, unzipped_mb: int):
    """A valid workbook whose sheet is padded to ``unzipped_mb`` MB of blanks (it compresses ~1000:1)."""
    Workbook().save(path)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                out.writestr(name, data)
        with out.open("xl/worksheets/sheet1.xml", "w") as fh:
            head, tail = sheet.split(b"<sheetData/>") if b"<sheetData/>" in sheet else (sheet, b"")
            fh.write(head + b"<sheetData>")
            blank = b" " * (1024 * 1024)
            for _ in range(unzipped_mb):
                fh.write(blank)
            fh.write(b"</sheetData>" + tail)


# --- size ------------------------------------------------------------------------------


def test_the_command_refuses_a_file_over_the_limit(limits):
    path = limits / "big.csv"
    path.write_text(HEADER + "E1,x,,T,agent,,,true\n" * 4000, encoding="utf-8")  # ~80 KB
    with pytest.raises(CommandError, match=r"the file is 0\.\d+ MB, more than the 0\.05 MB an import may be"):
        call_command("import_data", "staff", str(path))
    assert not Staff.objects.exists()


def test_the_admin_refuses_an_upload_over_the_limit_while_receiving_it(limits, hr):
    body = (HEADER + "E1,x,,T,agent,,,true\n" * 4000).encode()  # ~140 KB, over 0.05 MB
    response = admin_preview(hr, body)
    assert response.status_code == 200
    assert file_errors(response) == ["The file is larger than the 0.05 MB an import may be."]
    assert not Staff.objects.exists() and leftovers(limits) == []


# --- XLSX ------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_at_both_doors_without_unpacking_it(limits, hr, settings):
    settings.IMPORTS = {**settings.IMPORTS, "MAX_FILE_MB": 5, "MAX_UPLOAD_MB": 5}
    path = limits / "bomb.xlsx"
    zip_bomb(path, unzipped_mb=100)
    assert path.stat().st_size < 1024 * 1024  # small on disk, 100 MB unzipped
    tracemalloc.start()
    with pytest.raises(
        CommandError, match=r"would unzip to 100.02 MB, more than the 20 MB an import may be \(a zip bomb\?\)"
    ):
        call_command("import_data", "staff", str(path))
    response = admin_preview(hr, path.read_bytes(), name="bomb.xlsx", fmt="1")
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [e for e in file_errors(response) if "would unzip to 100.02 MB" in e]
    assert peak < 20 * 1024 * 1024  # memory flat: the sheet was never unpacked
    assert not Staff.objects.exists() and [n for n in leftovers(limits)] == []


def test_xlsx_rows_and_columns_are_capped(limits, settings):
    settings.IMPORTS = {**settings.IMPORTS, "XLSX_MAX_ROWS": 5, "XLSX_MAX_COLUMNS": 9}
    wide, tall = Workbook(), Workbook()
    wide.active.append(HEADER.strip().split(","))
    wide.active.append(["E1", "x", "", "T", "agent", "", "", "true", "", "surprise"])
    tall.active.append(HEADER.strip().split(","))
    for i in range(10):
        tall.active.append([f"E{i}", "x", "", "T", "agent", "", "", "true"])
    wide.save(limits / "wide.xlsx")
    tall.save(limits / "tall.xlsx")
    with pytest.raises(CommandError, match="row 2, column -: the sheet has more than 9 columns"):
        call_command("import_data", "staff", str(limits / "wide.xlsx"))
    with pytest.raises(CommandError, match="row 6, column -: the sheet has more than 5 rows"):
        call_command("import_data", "staff", str(limits / "tall.xlsx"))
    assert not Staff.objects.exists()


# --- encodings -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding,names", [("big5", "陳大文,張三豐,王偉,李娜"), ("latin-1", "José,Renée,Müller,Ærø")])
def test_a_file_in_another_encoding_is_refused_at_both_doors(tmp_path, hr, encoding, names):
    body = org_file(names, team="Support").encode(encoding)
    path = tmp_path / "org.csv"
    path.write_bytes(body)
    with pytest.raises(CommandError, match="neither UTF-8 nor GB18030"):
        call_command("import_data", "staff", str(path))
    assert [e for e in file_errors(admin_preview(hr, body)) if "neither UTF-8 nor GB18030" in e]
    assert not Staff.objects.exists()


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
def test_utf8_and_gb18030_files_import_the_same_at_both_doors(tmp_path, hr, encoding):
    body = org_file().encode(encoding)
    path = tmp_path / "org.csv"
    path.write_bytes(body)
    call_command("import_data", "staff", str(path))
    by_command = sorted(Staff.objects.values_list("employee_no", "name"))
    Staff.objects.all().delete()
    response = admin_preview(hr, body)
    form = response.context.get("confirm_form")
    assert form is not None, file_errors(response)
    hr.post("/admin/performance/staff/process_import/", form.initial)
    assert sorted(Staff.objects.values_list("employee_no", "name")) == by_command
    assert ("E001", "朱镕基") in by_command  # 镕 is outside GB2312: a GBK name still reads as Chinese
