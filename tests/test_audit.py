"""The audit trail: who, when, before and after, for every door that writes, bulk paths included."""

import datetime
import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from commission.definitions import plan_load
from commission.models import ExportBatch, Payout, PayoutLine, PlanRate
from commission.workflow import payout_adjust, payouts_approve, payroll_export
from performance.appraisal.services import cycle_close, cycle_create
from performance.models import CalendarDay, Complaint, ImportBatch, MetricValue, Order, Team
from performance.org.defaults import ROLE_GROUPS
from tests.factories import PLAN, OrderFactory, StaffFactory, UserFactory, local

pytestmark = pytest.mark.django_db


def test_imports_as_a_login_record_their_batch_and_each_rows_history(tmp_path):
    # given HR and a member
    hr = UserFactory(username="hr", groups=["HR"])
    StaffFactory(employee_no="S1", role="sales")
    orders = tmp_path / "o.csv"
    orders.write_text(
        "external_id,employee_no,customer_id,product_category,amount,ordered_at,paid_at\n"
        "O1,S1,C1,x,10.00,2026-01-05 10:00,2026-01-05 10:00\n"
    )
    complaints = tmp_path / "c.csv"
    complaints.write_text("external_id,employee_no,priority,received_at\nC1,S1,high,2026-01-05 10:00\n")
    # when HR imports orders, then changes one, and imports complaints
    call_command("import_data", "orders", str(orders), "--user", "hr")
    orders.write_text(orders.read_text().replace("10.00,", "12.00,"))
    call_command("import_data", "orders", str(orders), "--user", "hr")
    call_command("import_data", "complaints", str(complaints), "--user", "hr")
    # then every row has its history (who, and before/after), and each import its batch
    history = Order.objects.get().history.order_by("history_id")
    assert [(h.history_type, h.amount, h.history_user) for h in history] == [
        ("+", Decimal("10.00"), hr),
        ("~", Decimal("12.00"), hr),
    ]
    assert Complaint.objects.get().history.get().history_user == hr
    batches = list(ImportBatch.objects.order_by("pk").values_list("kind", "rows_added", "rows_updated", "door"))
    assert batches == [("orders", 1, 0, "command"), ("orders", 0, 1, "command"), ("complaints", 1, 0, "command")]
    assert ImportBatch.objects.first().imported_by == hr and len(ImportBatch.objects.first().checksum) == 64


def test_an_unchanged_reimport_writes_no_history(tmp_path):
    StaffFactory(employee_no="S1", role="sales")
    path = tmp_path / "o.csv"
    path.write_text(
        "external_id,employee_no,customer_id,product_category,amount,ordered_at,paid_at\n"
        "O1,S1,C1,x,10.00,2026-01-05 10:00,2026-01-05 10:00\n"
    )
    call_command("import_data", "orders", str(path))
    call_command("import_data", "orders", str(path))
    assert Order.objects.get().history.count() == 1


def test_the_admin_import_records_its_batch_with_the_files_checksum(client):
    hr = UserFactory(username="hr", groups=["HR"], is_staff=True)
    client.force_login(hr)
    body = "date,kind,name\n2026-10-01,holiday,国庆节\n".encode()
    response = client.post(
        "/admin/performance/calendarday/import/",
        {"import_file": SimpleUploadedFile("h.csv", body, content_type="text/csv"), "format": "0", "resource": "0"},
    )
    client.post("/admin/performance/calendarday/process_import/", response.context["confirm_form"].initial)
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.file_name, batch.door, batch.imported_by, batch.rows_added) == (
        "holidays",
        "h.csv",
        "admin",
        hr,
        1,
    )
    assert batch.checksum == hashlib.sha256(body).hexdigest()
    assert client.get("/admin/performance/importbatch/").status_code == 200


def test_metric_values_plan_rates_teams_payout_lines_and_payroll_batches_have_history(tmp_path):
    plan_load(data=PLAN)
    assert PlanRate.history.count() == PlanRate.objects.count() > 0
    seller = StaffFactory(employee_no="S1", role="sales")
    assert Team.history.filter(name=seller.team.name).exists() or Team.objects.exists()
    OrderFactory(staff=seller, paid_at=local(2026, 1, 10))
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1), templates=[])
    metrics = tmp_path / "m.csv"
    metrics.write_text("cycle,employee_no,metric,value\n2026-01,S1,plays,100\n")
    UserFactory(username="hr", groups=["HR"])
    call_command("import_data", "metrics", str(metrics), "--user", "hr")
    assert MetricValue.objects.get().history.get().history_user.username == "hr"
    cycle_close(inline=True, cycle=cycle)
    a, b = UserFactory(username="fa", groups=["Finance"]), UserFactory(username="fb", groups=["Finance"])
    payout = Payout.objects.get()
    payout_adjust(payout=payout, amount=Decimal("3.00"), reason="goodwill", actor=a)
    assert PayoutLine.history.get().history_user == a
    payouts_approve(payouts=[payout], actor=b)
    batch, _content = payroll_export(cycle=cycle, actor=b, file_format="csv")
    assert ExportBatch.history.get(id=batch.pk).history_user == b


def test_import_data_as_a_login_is_refused_without_the_permission_and_writes_nothing(tmp_path):
    UserFactory(username="fin", groups=["Finance"])
    path = tmp_path / "h.csv"
    path.write_text("date,kind\n2026-10-01,holiday\n")
    with pytest.raises(CommandError, match="refused: fin may not import calendarday"):
        call_command("import_data", "holidays", str(path), "--user", "fin")
    assert not CalendarDay.objects.exists() and not ImportBatch.objects.exists()
    assert "HR" in ROLE_GROUPS
