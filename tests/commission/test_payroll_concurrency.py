"""Two payroll exports started at the same moment, as two processes on PostgreSQL, export each payout once."""

import csv
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from commission.definitions import plan_load
from commission.models import ExportBatch, Payout
from commission.workflow import payouts_approve
from performance.appraisal.services import cycle_close, cycle_create
from tests.factories import PLAN, OrderFactory, StaffFactory, UserFactory, local

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="row locks: PostgreSQL (the CI's second run)",
    ),
]


def test_two_concurrent_payroll_exports_write_disjoint_sets_whose_union_is_every_approved_payout(tmp_path):
    # given 30 approved payouts
    plan_load(data=PLAN)
    for i in range(30):
        OrderFactory(staff=StaffFactory(employee_no=f"S{i:03d}", role="sales"), paid_at=local(2026, 1, 10))
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1), templates=[])
    cycle_close(inline=True, cycle=cycle)
    fin = UserFactory(username="fin", groups=["Finance"])
    payouts_approve(payouts=list(Payout.objects.filter(cycle=cycle)), actor=fin)
    approved = set(Payout.objects.values_list("staff__employee_no", flat=True))
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    outputs = [tmp_path / "a.csv", tmp_path / "b.csv"]
    # when two export processes start while the payouts' rows are held, then both are let go at once
    with transaction.atomic():
        list(Payout.objects.select_for_update().filter(cycle=cycle))
        procs = [
            subprocess.Popen(
                [sys.executable, "manage.py", "export_payouts", "2026-01", "--output", str(out), "--for-payroll"]
                + ["--user", "fin"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for out in outputs
        ]
        time.sleep(3)  # both are waiting on the rows now
    logs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs
    # then the files hold disjoint sets whose union is every approved payout
    sets = [
        {row["employee_no"] for row in csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines())}
        for out in outputs
    ]
    assert sets[0].isdisjoint(sets[1])
    assert sets[0] | sets[1] == approved
    # and each payout is in exactly one batch, exported once
    assert sum(b.payout_count for b in ExportBatch.objects.all()) == 30
    assert set(Payout.objects.values_list("status", flat=True)) == {"exported"}
    assert any("nothing left to export" in log for log in logs), logs
