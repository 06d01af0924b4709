"""import_data: all rows or none, errors naming row and column, encodings, XLSX, re-import."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from performance.appraisal.services import cycle_create
from performance.models import Complaint, KciRating, MetricValue, Order, Staff, Ticket
from tests.factories import StaffFactory, TicketFactory, local

pytestmark = pytest.mark.django_db

TICKET_HEADER = (
    "external_id,employee_no,kind,channel,customer_id,created_at,first_response_at,avg_response_seconds,"
    "resolved_at,reopened,rating"
)


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(kind, path, *extra):
    call_command("import_data", kind, str(path), *extra)


def test_tickets_import_and_reimport_updates_without_duplicating(tmp_path):
    StaffFactory(employee_no="E001")
    path = write(
        tmp_path,
        "t.csv",
        TICKET_HEADER + "\n"
        "T1,E001,inquiry,chat,C1,2026-01-05 10:00:00,2026-01-05T10:01:00,90,,false,5\n"
        "T2,E001,,,,2026-01-05T02:00:00Z,,,,,\n",
    )
    run("tickets", path)
    t1, t2 = Ticket.objects.order_by("external_id")
    assert (t1.kind, t1.rating, t1.avg_response_seconds, t1.created_at) == ("inquiry", 5, 90, local(2026, 1, 5, 10))
    assert (t2.kind, t2.channel, t2.created_at) == ("support", "chat", local(2026, 1, 5, 10))  # UTC input
    run(
        "tickets", write(tmp_path, "t2.csv", TICKET_HEADER + "\nT1,E001,inquiry,chat,C1,2026-01-05 10:00:00,,,,yes,3\n")
    )
    assert Ticket.objects.count() == 2
    assert Ticket.objects.get(external_id="T1").rating == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("T1,E999,support,chat,,2026-01-05 10:00,,,,,", "row 2, column employee_no: unknown employee_no 'E999'"),
        (
            "T1,E001,support,chat,,05/01/2026,,,,,",
            "row 2, column created_at: '05/01/2026' is not an ISO 8601 date-time",
        ),
        ("T1,E001,support,chat,,2026-01-05 10:00,,,,,6", "row 2, column rating: 6 is outside 1–5"),
        ("T1,E001,support,fax,,2026-01-05 10:00,,,,,", "row 2, column channel: 'fax' is not one of chat, phone, email"),
        (
            "T1,E001,support,chat,,2026-01-05 10:00,,,,,\nT1,E001,support,chat,,2026-01-05 11:00,,,,,",
            "row 3, column external_id: duplicate of row 2 in this file",
        ),
        ("T1,E001,support,chat,,,,,,,", "row 2, column created_at: required value missing"),
        (
            "T1,E001,support,chat,,2026-01-05 10:00,2026-01-05 09:00,,,,",
            "row 2, column first_response_at: is before created_at (2026-01-05T09:00:00+08:00 < 2026-01-05T10:00:00+08:00)",
        ),
    ],
)
def test_a_bad_ticket_file_names_row_and_column_and_writes_nothing(tmp_path, body, message):
    StaffFactory(employee_no="E001")
    TicketFactory(external_id="KEEP")
    path = write(
        tmp_path,
        "bad.csv",
        TICKET_HEADER + "\nT0,E001,support,chat,,2026-01-05 10:00,,,,,\n" + body.replace("row 2", "row 3") + "\n",
    )
    with pytest.raises(CommandError) as exc:
        run("tickets", path)
    expected = message.replace("row 3", "row 4").replace("row 2", "row 3")
    assert expected in str(exc.value)
    assert list(Ticket.objects.values_list("external_id", flat=True)) == ["KEEP"]


def test_missing_required_column_and_empty_file(tmp_path):
    StaffFactory(employee_no="E001")
    with pytest.raises(CommandError, match="row 1, column created_at: required column missing"):
        run("tickets", write(tmp_path, "a.csv", "external_id,employee_no\nT1,E001\n"))
    with pytest.raises(CommandError, match="the file is empty"):
        run("tickets", write(tmp_path, "b.csv", ""))
    assert not Ticket.objects.exists()


def test_gb18030_and_bom_files_are_read(tmp_path):
    header = "employee_no,name,email,team,role,manager,hired_on,active"
    run("staff", write(tmp_path, "gb.csv", header + "\nE001,张三,,客服一组,manager,,2024-03-01,true\n", "gb18030"))
    run("staff", write(tmp_path, "bom.csv", "\ufeff" + header + "\nE002,李四,li@example.com,客服一组,agent,E001,,1\n"))
    a, b = Staff.objects.order_by("employee_no")
    assert (a.name, a.team.name, b.name, b.manager) == ("张三", "客服一组", "李四", a)
    assert b.user.username == "E002"
    assert b.user.groups.filter(name="Staff").exists()


def test_xlsx_orders_read_floats_as_exact_decimals_and_resolve_tickets(tmp_path):
    StaffFactory(employee_no="E001")
    TicketFactory(external_id="T9")
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "external_id",
            "employee_no",
            "customer_id",
            "product_category",
            "amount",
            "ordered_at",
            "paid_at",
            "ticket",
            "is_renewal",
            "term_end",
            "refunded_amount",
            "refunded_at",
        ]
    )
    ws.append(
        [
            "O1",
            "E001",
            "C1",
            "cloud_server",
            0.1 + 0.2 - 0.0000000000000000555,
            "2026-01-05 10:00",
            "2026-01-05 11:00",
            "T9",
            "false",
            "2027-01-05",
            0,
            None,
        ]
    )
    path = tmp_path / "o.xlsx"
    wb.save(path)
    run("orders", path)
    order = Order.objects.get()
    assert (order.amount, order.ticket.external_id, order.refunded_amount) == (Decimal("0.30"), "T9", Decimal("0.00"))


def test_orders_refuse_negative_amounts_unknown_tickets_and_refunds_over_amount(tmp_path):
    StaffFactory(employee_no="E001")
    header = "external_id,employee_no,customer_id,product_category,amount,ordered_at,paid_at,ticket,refunded_amount,refunded_at"
    path = write(
        tmp_path,
        "o.csv",
        header + "\n"
        "O1,E001,C1,x,-5.00,2026-01-05 10:00,,,,\n"
        "O2,E001,C1,x,10.00,2026-01-05 10:00,2026-01-05 10:00,NOPE,,\n"
        "O3,E001,C1,x,10.00,2026-01-05 10:00,2026-01-05 10:00,,20.00,2026-01-06 10:00\n",
    )
    with pytest.raises(CommandError) as exc:
        run("orders", path)
    text = str(exc.value)
    assert "row 2, column amount: an amount cannot be negative" in text
    assert "row 4, column refunded_amount: is more than the amount (20.00 > 10.00)" in text
    assert not Order.objects.exists()


def test_dry_run_checks_everything_and_writes_nothing(tmp_path, capsys):
    StaffFactory(employee_no="E001")
    run("tickets", write(tmp_path, "t.csv", TICKET_HEADER + "\nT1,E001,,,,2026-01-05 10:00,,,,,\n"), "--dry-run")
    assert "1 tickets rows are valid; nothing written" in capsys.readouterr().out
    assert not Ticket.objects.exists()


def test_complaints_get_due_times_from_the_sla_policies(tmp_path):
    StaffFactory(employee_no="E001")
    header = "external_id,employee_no,handler,priority,received_at,first_response_at"
    run("complaints", write(tmp_path, "c.csv", header + "\nCP1,E001,E001,urgent,2026-01-09 17:00,\n"))
    c = Complaint.objects.get()
    # urgent: 2 working hours; Friday 17:00 → 1 h Friday, 1 h Monday from 09:00; 8 h resolution: Monday 16:00
    assert (c.first_response_due, c.resolution_due) == (local(2026, 1, 12, 10), local(2026, 1, 12, 16))


def test_wrong_encoding_is_reported(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"external_id,employee_no\n\xff\xfe\xfa\n")
    with pytest.raises(CommandError):
        run("tickets", path)
    assert not Ticket.objects.exists()


def test_at_most_fifty_errors_are_listed_with_a_count_of_the_rest(tmp_path):
    rows = "\n".join(f"T{i},NOBODY,,,,2026-01-05 10:00,,,,," for i in range(60))
    with pytest.raises(CommandError) as exc:
        run("tickets", write(tmp_path, "t.csv", TICKET_HEADER + "\n" + rows + "\n"))
    assert str(exc.value).count("unknown employee_no") == 50
    assert "… and 10 more errors" in str(exc.value)


def test_kci_and_metrics_import(tmp_path, agent_template):
    StaffFactory(employee_no="E001")
    cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    run("kci", write(tmp_path, "k.csv", "cycle,employee_no,indicator,rating,comment\n2026-01,E001,attitude,4,好\n"))
    assert KciRating.objects.get().rating == 4
    with pytest.raises(CommandError, match="row 2, column rating: 6 is outside 0–5"):
        run("kci", write(tmp_path, "k2.csv", "cycle,employee_no,indicator,rating\n2026-01,E001,attitude,6\n"))
    run("metrics", write(tmp_path, "m.csv", "cycle,employee_no,metric,value\n2026-01,E001,plays,123456\n"))
    assert MetricValue.objects.get(metric="plays").value == 123456
    with pytest.raises(CommandError, match="row 2, column metric: tickets_handled is computed"):
        run("metrics", write(tmp_path, "m2.csv", "cycle,employee_no,metric,value\n2026-01,E001,tickets_handled,1\n"))


def _ticket_rows():
    return sorted(
        Ticket.objects.values_list(
            "external_id",
            "staff__employee_no",
            "kind",
            "channel",
            "customer_id",
            "created_at",
            "first_response_at",
            "avg_response_seconds",
            "resolved_at",
            "reopened",
            "rating",
            "qa_key",
        )
    )


def test_the_set_based_path_writes_what_the_row_by_row_path_writes(tmp_path):
    # given a file with stripped spaces, upper-case choices, a T separator, defaults and a re-import
    from django.db import connection, transaction

    from performance.ingest.kinds import KINDS
    from performance.ingest.kinds.tickets import bulk_tickets
    from performance.ingest.readers import read_table

    StaffFactory(employee_no="E001")
    TicketFactory(external_id="T9", staff=Staff.objects.get(employee_no="E001"), rating=1)
    body = (
        TICKET_HEADER + "\n"
        " T1 ,E001,INQUIRY, Phone ,C1,2026-01-05 10:00:00,2026-01-05T10:01:00,180.5,,YES,5\n"
        "T2,E001,,,,2026-01-05T02:00:00,,,2026-01-05 02:00:00,,\n"
        "T9,E001,aftersales,email,\u3000C9\u3000,2026-01-06 23:59:59,,0,,0,\n"
    )
    path = write(tmp_path, "t.csv", body)
    header, _rows = read_table(path)
    # when the file goes through each path in turn
    with transaction.atomic():
        result = bulk_tickets(header, path) if connection.vendor == "postgresql" else None
        by_set = _ticket_rows()
        transaction.set_rollback(True)
    with transaction.atomic():
        header, rows = read_table(path)
        KINDS["tickets"].run(header, rows)
        by_row = _ticket_rows()
        transaction.set_rollback(True)
    # then the set-based path accepted the file (PostgreSQL) and wrote the same rows
    if connection.vendor == "postgresql":
        assert (result.rows, result.created) == (3, 2)
        assert by_set == by_row
    assert [r[0] for r in by_row] == ["T1", "T2", "T9"]
    assert by_row[0][2:4] == ("inquiry", "phone") and by_row[2][4] == "C9"


@pytest.mark.parametrize(
    "cell",
    ["2026-01-05 10:00:60", "2026-01-05 +1:00:00", " 2026-01-5 10:00:00", "2026-01-05 10:00:0 ", "05/01/2026"],
)
def test_a_date_time_postgresql_would_forgive_is_still_refused_with_row_and_column(tmp_path, cell):
    StaffFactory(employee_no="E001")
    path = write(tmp_path, "t.csv", TICKET_HEADER + f"\nT1,E001,,,,2026-01-05 10:00:00,{cell},,,,\n")
    with pytest.raises(CommandError, match="row 2, column first_response_at: .* is not an ISO 8601 date-time"):
        run("tickets", path)
    assert not Ticket.objects.exists()
