"""One truth on every page: the same calibration and the same late complaint read the same on /me/,
/team/, the HR dashboard, the admin and the exports (and the commission grade modifier)."""

import csv
import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from commission.definitions import plan_load
from performance.appraisal import reviews
from performance.appraisal.services import cycle_close, cycle_create
from performance.models import Appraisal, Complaint, Team
from performance.sla.services import complaints_recompute_due
from tests.factories import PLAN, ComplaintFactory, OrderFactory, StaffFactory, TicketFactory, UserFactory, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(agent_template):
    plan_load(data=PLAN)
    team = Team.objects.create(name="Desk")
    boss = StaffFactory(
        employee_no="M1", role="manager", team=team, user=UserFactory(username="m1", groups=["Staff", "Manager"])
    )
    alice = StaffFactory(employee_no="A1", team=team, manager=boss)
    bob = StaffFactory(employee_no="B1", team=team, manager=boss)
    seller = StaffFactory(employee_no="S1", role="sales", team=team, manager=boss)
    for member, rating in ((alice, 3), (bob, 5)):
        for i in range(6):
            TicketFactory(staff=member, created_at=local(2026, 1, 3 + i, 10), rating=rating)
    OrderFactory(staff=seller, amount=Decimal("1000.00"), paid_at=local(2026, 1, 5))
    cycle = cycle_create(name="2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(inline=True, cycle=cycle)
    hr = UserFactory(username="hr", groups=["HR"], is_staff=True)
    return {"boss": boss, "alice": alice, "bob": bob, "seller": seller, "cycle": cycle, "hr": hr}


def _page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_same_calibration_and_late_complaint_read_the_same_everywhere(client, company, tmp_path):
    # given: Alice computed below Bob, HR calibrates her to 100.00 excellent (level with Bob, first by employee_no);
    # a complaint she handled was resolved a day after its due time, and no beat task ran
    alice, cycle, hr = company["alice"], company["cycle"], company["hr"]
    appraisal = Appraisal.objects.get(staff=alice)
    computed = (appraisal.final_score, appraisal.grade, appraisal.rank)
    assert computed[2] == 2
    reviews.appraisal_override(appraisal=appraisal, score=Decimal("100"), grade="excellent", reason="panel", actor=hr)
    late = ComplaintFactory(
        external_id="CP-LATE",
        staff=alice,
        handler=alice,
        priority="normal",
        received_at=local(2026, 1, 10, 10),
        first_response_at=local(2026, 1, 10, 11),
        resolved_at=local(2026, 1, 14, 10),  # 96 h after receipt: 72 h resolution target missed
    )
    complaints_recompute_due(complaints=Complaint.objects.filter(pk=late.pk))
    late.refresh_from_db()
    assert late.resolution_due == local(2026, 1, 13, 10) and late.resolution_breached_at is None  # never flagged

    # when / then: /me/ headline, rank and complaint
    me = _page(client, alice.user, "/me/")
    assert '<span class="big" id="summary-score">100.00</span>' in me
    assert 'id="summary-grade">Excellent</span>' in me
    assert '<span class="big" id="summary-rank">1</span>' in me
    assert "resolution late" in me
    # /team/ (manager)
    team = _page(client, company["boss"].user, f"/team/?cycle={cycle.pk}")
    assert "100.00" in team and "Excellent" in team
    assert "CP-LATE" in team
    # HR dashboard: Alice counts as excellent beside Bob, the complaint as not met (0% of 1)
    dash = _page(client, hr, f"/hr/?cycle={cycle.pk}")
    assert '<td class="num" data-grade="excellent">2</td>' in dash
    assert "0.0%" in dash
    # the admin's lists (superuser)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    listing = _page(client, root, f"/admin/performance/appraisal/?cycle__id__exact={cycle.pk}")
    assert "100.00" in listing and "Excellent" in listing
    complaints = _page(client, root, "/admin/performance/complaint/?queue=breached")
    assert "CP-LATE" in complaints
    # the exports
    out = tmp_path / "results.csv"
    call_command("export_results", cycle.name, "--output", str(out))
    row = next(r for r in csv.DictReader(out.open(encoding="utf-8-sig")) if r["employee_no"] == "A1")
    assert (row["effective_score"], row["effective_grade"], row["effective_rank"]) == ("100.00", "excellent", "1")
    assert (row["final_score"], row["grade"], row["rank"]) == (str(computed[0]), computed[1], str(computed[2]))
    out = tmp_path / "complaints.csv"
    call_command("export_complaints", "--start", "2026-01-01", "--end", "2026-02-01", "--output", str(out))
    row = next(r for r in csv.DictReader(out.open(encoding="utf-8-sig")) if r["external_id"] == "CP-LATE")
    assert (row["first_response_breached"], row["resolution_breached"]) == ("false", "true")
