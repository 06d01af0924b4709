"""Every computed metric of the contract's catalog, against hand-computed values."""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from commission.definitions import plan_load
from performance.appraisal.close import cycle_metric_map
from performance.appraisal.metrics import COMPUTED_METRICS, compute_metrics
from performance.appraisal.services import cycle_close, cycle_create
from performance.models import Inspection, InspectionStatus, MemberMetrics, Scorecard
from tests.factories import PLAN, ComplaintFactory, OrderFactory, StaffFactory, TicketFactory, local

pytestmark = pytest.mark.django_db

JAN, FEB = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)
NOW = local(2026, 2, 1, 12)
S = datetime.timedelta(seconds=1)


@pytest.fixture
def world():
    agent = StaffFactory(employee_no="A1")
    seller = StaffFactory(employee_no="S1", role="sales")
    other_seller = StaffFactory(employee_no="S2", role="sales")

    def ticket(day, kind="support", **kw):
        return TicketFactory(staff=agent, kind=kind, created_at=local(2026, 1, day, 10), **kw)

    t1 = ticket(
        5,
        "inquiry",
        first_response_at=local(2026, 1, 5, 10) + 60 * S,
        avg_response_seconds=100,
        rating=5,
        resolved_at=local(2026, 1, 5, 11),
        reopened=False,
    )
    t2 = ticket(
        6,
        "inquiry",
        first_response_at=local(2026, 1, 6, 10) + 121 * S,
        avg_response_seconds=200,
        rating=4,
        resolved_at=local(2026, 1, 6, 10, 30) + datetime.timedelta(microseconds=500_000),
        reopened=True,
    )
    t3 = ticket(7, first_response_at=None, rating=2)
    ticket(
        8,
        "inquiry",
        first_response_at=local(2026, 1, 8, 10) + 120 * S,
        avg_response_seconds=180,
        resolved_at=local(2026, 1, 8, 10, 10),
    )
    TicketFactory(staff=agent, created_at=local(2026, 2, 1, 0))  # at the window's end: outside

    # conversion: t1 named by two paid orders (counts once), t2 only by an order paid after the end
    OrderFactory(
        staff=seller,
        ticket=t1,
        amount=Decimal("1000.00"),
        paid_at=local(2026, 1, 20),
        refunded_amount=Decimal("200.00"),
        refunded_at=local(2026, 1, 25),
    )
    OrderFactory(
        staff=seller,
        ticket=t1,
        amount=Decimal("500.00"),
        paid_at=local(2026, 1, 21),
        refunded_amount=Decimal("100.00"),
        refunded_at=local(2026, 2, 5),
    )  # refund after the end
    OrderFactory(staff=seller, amount=Decimal("300.00"), paid_at=local(2026, 1, 22))
    OrderFactory(staff=seller, ticket=t2, amount=Decimal("50.00"), paid_at=local(2026, 2, 3))  # after the end
    # retention: X and Y are due in January (Y twice, counted once); X renewed 2025-12-10 (inside
    # [start − 30 days, end)) by another seller, Y only 2025-11-01 (too early)
    for customer, paid, term_end in (
        ("X", local(2025, 1, 10), datetime.date(2026, 1, 15)),
        ("Y", local(2025, 2, 1), datetime.date(2026, 1, 20)),
        ("Y", local(2025, 3, 1), datetime.date(2026, 1, 25)),
    ):
        OrderFactory(staff=seller, customer_id=customer, paid_at=paid, term_end=term_end)
    OrderFactory(staff=other_seller, customer_id="X", is_renewal=True, paid_at=local(2025, 12, 10))
    OrderFactory(staff=other_seller, customer_id="Y", is_renewal=True, paid_at=local(2025, 11, 1))

    card = Scorecard.objects.get(code="default")
    for t, status, passed in (
        (t1, InspectionStatus.DONE, True),
        (t2, InspectionStatus.REVIEWED, False),
        (t3, InspectionStatus.PENDING, None),
    ):
        Inspection.objects.create(
            ticket=t, scorecard=card, sampled_at=NOW, window_start=JAN, window_end=FEB, status=status, passed=passed
        )

    against = {"staff": agent, "handler": seller}
    ComplaintFactory(**against, received_at=local(2026, 1, 3))
    ComplaintFactory(**against, received_at=local(2026, 1, 4))
    ComplaintFactory(**against, received_at=local(2025, 12, 31, 23, 59))  # before the window
    # handled by the agent: met, resolution late, not yet due (met so far)
    handled = {"handler": agent, "received_at": local(2026, 1, 10, 9)}
    ComplaintFactory(
        **handled,
        first_response_at=local(2026, 1, 10, 9, 5),
        first_response_due=local(2026, 1, 10, 9, 30),
        resolved_at=local(2026, 1, 11),
        resolution_due=local(2026, 1, 12),
    )
    ComplaintFactory(
        **handled,
        first_response_at=local(2026, 1, 10, 9, 5),
        first_response_due=local(2026, 1, 10, 9, 30),
        resolved_at=local(2026, 1, 13),
        resolution_due=local(2026, 1, 12),
    )
    ComplaintFactory(**handled, first_response_due=local(2026, 2, 1, 13), resolution_due=local(2026, 2, 3))
    return agent, seller


def test_every_metric_of_the_catalog_by_hand(world):
    agent, seller = world
    values = {
        sid: {code: r.value for code, r in metrics.items()}
        for sid, metrics in compute_metrics([agent.pk, seller.pk], JAN, FEB, now=NOW).items()
    }
    assert values[agent.pk] == {
        "tickets_handled": 4,
        "first_response_rate_2m": Fraction(2, 4),  # 60 s and exactly 120 s; 121 s and no response miss
        "avg_response_rate_3m": Fraction(2, 3),  # 100 and 180 of the three with a figure
        "satisfaction_rate": Fraction(2, 3),  # 5 and 4 of 5, 4, 2
        "resolution_rate": Fraction(3, 4),
        "fcr_rate": Fraction(2, 3),  # the reopened one is not a first-contact resolution
        "avg_handle_seconds": (3600 + Fraction(3601, 2) + 600) / 3,  # 1 h, 30 min 0.5 s, 10 min
        "conversion_rate": Fraction(1, 3),  # t1 of the three inquiries
        "qa_pass_rate": Fraction(1, 2),  # the pending inspection does not count
        "complaint_count": 2,  # the third was received before the window
        "complaint_sla_rate": Fraction(2, 3),
        "orders_count": 0,
        "sales_amount": 0,
        "avg_order_value": None,
        "refund_rate": None,
        "retention_rate": None,
    }
    assert values[seller.pk] == {
        "tickets_handled": 0,
        **{
            code: None
            for code in (
                "first_response_rate_2m",
                "avg_response_rate_3m",
                "satisfaction_rate",
                "resolution_rate",
                "fcr_rate",
                "avg_handle_seconds",
                "conversion_rate",
                "qa_pass_rate",
            )
        },
        "complaint_count": 0,
        "complaint_sla_rate": 1,  # it handles the two in the window, which have no SLA due times
        "orders_count": 3,
        "sales_amount": Decimal("1600.00"),  # 1000 − 200 refunded in the window + 500 (refunded later) + 300
        "avg_order_value": Fraction(1600, 3),
        "refund_rate": Fraction(1, 3),
        "retention_rate": Fraction(1, 2),  # X renewed, Y not
    }
    assert set(values[agent.pk]) == set(COMPUTED_METRICS)


def test_the_close_stores_every_metric_exactly_in_one_row_per_member(world, agent_template):
    agent, seller = world
    plan_load(data=PLAN)  # sales staff are members through the plan
    cycle = cycle_create(name="2026-01", start=JAN, end=FEB)
    cycle_close(inline=True, cycle=cycle)
    cycle.refresh_from_db()
    stored = MemberMetrics.objects.get(cycle=cycle, staff=agent).values
    assert stored["avg_handle_seconds"] == ["6000.500000", 3]  # decimal strings, never floats
    assert stored["tickets_handled"] == [4, None]
    assert stored["refund_rate"] == [0, 0]  # undefined: denominator 0
    assert MemberMetrics.objects.get(cycle=cycle, staff=seller).values["sales_amount"] == ["1600.000000", None]
    computed = compute_metrics([agent.pk, seller.pk], JAN, FEB, now=cycle.closing_started_at)
    read_back = cycle_metric_map(cycle=cycle)
    for sid in (agent.pk, seller.pk):
        assert read_back[sid] == {code: r.value for code, r in computed[sid].items()}
