"""Calibration: a grade of the template, ranks by effective score, payouts marked for recompute."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from commission import workflow
from commission.definitions import plan_load
from commission.models import Payout
from performance.appraisal import reviews
from performance.appraisal.selectors import appraisal_list, effective_grades
from performance.appraisal.services import cycle_close, cycle_create
from performance.models import Appraisal
from tests.factories import PLAN, OrderFactory, StaffFactory, TicketFactory, UserFactory, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(agent_template):
    plan_load(data={**PLAN, "code": "agent-bonus", "name": "Agent bonus", "roles": ["agent"]})
    members = [StaffFactory(employee_no=f"A{i}") for i in range(3)]
    for member, rating in zip(members, (5, 4, 3)):
        for day in range(6):
            TicketFactory(staff=member, created_at=local(2026, 1, 3 + day, 10), rating=rating)
        OrderFactory(staff=member, amount=Decimal("1000.00"), paid_at=local(2026, 1, 5))
    cycle = cycle_create(name="c", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(inline=True, cycle=cycle)
    hr = UserFactory(username="hr", groups=["HR"])
    finance = UserFactory(username="fin", groups=["Finance"])
    return {"cycle": cycle, "members": members, "hr": hr, "finance": finance}


def test_a_calibrated_grade_must_be_one_of_the_templates_grades(closed):
    # given
    appraisal = Appraisal.objects.get(staff=closed["members"][2])
    before = (appraisal.override_grade, appraisal.override_reason)
    # when / then
    with pytest.raises(ValidationError) as refused:
        reviews.appraisal_override(appraisal=appraisal, grade="A+", reason="panel", actor=closed["hr"])
    assert refused.value.message_dict == {
        "override_grade": ["'A+' is not a grade of template Customer service agent (v1)."]
    }
    appraisal.refresh_from_db()
    assert (appraisal.override_grade, appraisal.override_reason) == before  # nothing written


def test_a_calibration_without_a_reason_is_refused_and_writes_nothing(closed):
    appraisal = Appraisal.objects.get(staff=closed["members"][2])
    with pytest.raises(ValidationError) as refused:
        reviews.appraisal_override(appraisal=appraisal, score=Decimal("90"), reason=" ", actor=closed["hr"])
    assert refused.value.message_dict == {"override_reason": ["A calibration needs a reason."]}
    appraisal.refresh_from_db()
    assert appraisal.override_score is None


def test_effective_rank_follows_calibrated_scores_and_survives_a_new_close(closed):
    # given: ranks 1, 2, 3 as computed
    cycle, first = closed["cycle"], closed["members"][0]
    assert list(
        Appraisal.objects.filter(cycle=cycle).order_by("staff__employee_no").values_list("rank", flat=True)
    ) == [
        1,
        2,
        3,
    ]
    # when: the first (100.00, tied with the second) is calibrated down to 50, then the cycle is closed again
    reviews.appraisal_override(
        appraisal=Appraisal.objects.get(staff=first), score=Decimal("50"), reason="panel", actor=closed["hr"]
    )
    cycle_close(inline=True, cycle=cycle)
    # then: the effective ranks put them last; the contract's rank stays as computed
    rows = appraisal_list(cycle=cycle).order_by("staff__employee_no").values_list("rank", "effective_rank")
    assert list(rows) == [(1, 3), (2, 1), (3, 2)]


def test_a_calibration_after_payouts_marks_them_for_recompute_and_approval_waits(closed):
    # given: payouts computed on the close
    cycle, member = closed["cycle"], closed["members"][0]
    payout = Payout.objects.get(staff=member, cycle=cycle)
    assert not payout.recompute_needed
    grade_before = effective_grades(cycle=cycle)[member.pk]
    assert grade_before != "needs_improvement"
    # when
    reviews.appraisal_override(
        appraisal=Appraisal.objects.get(staff=member), grade="needs_improvement", reason="conduct", actor=closed["hr"]
    )
    # then: marked, approval refused naming the member, others untouched
    payout.refresh_from_db()
    assert payout.recompute_needed
    assert not Payout.objects.exclude(pk=payout.pk).filter(recompute_needed=True).exists()
    with pytest.raises(ValidationError, match="close the cycle again"):
        workflow.payouts_approve(payouts=[payout], actor=closed["finance"])
    payout.refresh_from_db()
    assert payout.status == "calculated"
    # when: the cycle is closed again, the grade modifier reads the calibrated grade
    cycle_close(inline=True, cycle=cycle)
    payout.refresh_from_db()
    assert not payout.recompute_needed
    assert effective_grades(cycle=cycle)[member.pk] == "needs_improvement"
    assert payout.multiplier == Decimal("0.8") * (payout.multiplier / Decimal("0.8"))
    assert any("Needs improvement" in label for label in payout.lines.values_list("label", flat=True))
