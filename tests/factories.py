import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth.models import Group, User

from performance.models import Complaint, Order, Staff, Team, Ticket
from performance.records.keys import sample_key

TZ = ZoneInfo("Asia/Shanghai")

AGENT_TEMPLATE = {
    "code": "cs-agent",
    "name": "Customer service agent",
    "role": "agent",
    "sections": [
        {
            "code": "kpi",
            "kind": "kpi",
            "weight": 80,
            "indicators": [
                {
                    "code": "frt",
                    "metric": "first_response_rate_2m",
                    "weight": 50,
                    "scoring": {"rule": "linear", "floor": 0.5, "target": 0.85},
                },
                {
                    "code": "csat",
                    "metric": "satisfaction_rate",
                    "weight": 50,
                    "scoring": {"rule": "bands", "bands": [[0.9, 100], [0.8, 80], [0.0, 40]]},
                },
            ],
        },
        {
            "code": "kci",
            "kind": "kci",
            "weight": 20,
            "indicators": [
                {"code": "attitude", "weight": 100, "scoring": {"rule": "rating", "scale": 5}},
            ],
        },
    ],
    "grading": {"method": "thresholds", "grades": [[90, "excellent"], [75, "good"], [0, "needs_improvement"]]},
    "eligibility": {"min_tickets": 5},
}

PLAN = {
    "code": "cloud-sales",
    "name": "Cloud server sales",
    "roles": ["sales", "presales"],
    "period": "monthly",
    "rate_bounds": [0.05, 0.20],
    "rates": {"default": 0.05, "cloud_server": 0.10, "support_plan": 0.20},
    "high_value": {"min_amount": 50000, "extra_rate": 0.02},
    "modifiers": {
        "satisfaction_rate": [[0.90, 1.10], [0.80, 1.00], [0.0, 0.80]],
        "retention_rate": [[0.85, 1.10], [0.60, 1.00], [0.0, 0.90]],
        "grade": {"excellent": 1.20, "good": 1.00, "needs_improvement": 0.80},
    },
    "clawback_days": 90,
    "cap": 30000,
}


def local(y, m, d, hh=0, mm=0, ss=0):
    return datetime.datetime(y, m, d, hh, mm, ss, tzinfo=TZ)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-123456!")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or []:
            self.groups.add(Group.objects.get(name=name))


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    employee_no = factory.Sequence(lambda n: f"E{n:04d}")
    name = factory.Sequence(lambda n: f"员工{n}")
    team = factory.SubFactory(TeamFactory, name="客服一组")
    role = "agent"
    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..employee_no"), groups=["Staff"])


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    external_id = factory.Sequence(lambda n: f"T{n:07d}")
    qa_key = factory.LazyAttribute(lambda t: sample_key(t.external_id))
    staff = factory.SubFactory(StaffFactory)
    created_at = factory.LazyFunction(lambda: local(2026, 1, 10, 10))
    first_response_at = factory.LazyAttribute(lambda t: t.created_at + datetime.timedelta(seconds=30))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    external_id = factory.Sequence(lambda n: f"O{n:07d}")
    staff = factory.SubFactory(StaffFactory, role="sales")
    customer_id = factory.Sequence(lambda n: f"C{n}")
    product_category = "cloud_server"
    amount = Decimal("1000.00")
    ordered_at = factory.LazyFunction(lambda: local(2026, 1, 10, 9))
    paid_at = factory.LazyFunction(lambda: local(2026, 1, 10, 10))


class ComplaintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Complaint

    external_id = factory.Sequence(lambda n: f"CP{n:06d}")
    priority = "normal"
    received_at = factory.LazyFunction(lambda: local(2026, 1, 10, 10))


def make_population(*, frt_fast=8, frt_slow=2):
    """A: 10 tickets (8 answered within 2 min), 5 rated 5,5,4,3,2, attitude 4/5.
    B: 6 tickets all fast, none rated, no KCI. C: 3 tickets (not eligible)."""
    a = StaffFactory(employee_no="E001")
    b = StaffFactory(employee_no="E002")
    c = StaffFactory(employee_no="E003")
    ratings = [5, 5, 4, 3, 2, None, None, None, None, None]
    for i in range(frt_fast + frt_slow):
        created = local(2026, 1, 5 + i, 10)
        delay = 120 if i < frt_fast else 121  # exactly 120 s counts as within 2 minutes
        TicketFactory(
            staff=a,
            created_at=created,
            first_response_at=created + datetime.timedelta(seconds=delay),
            rating=ratings[i],
        )
    for i in range(6):
        TicketFactory(staff=b, created_at=local(2026, 1, 3, 9 + i))
    for i in range(3):
        TicketFactory(staff=c, created_at=local(2026, 1, 3, 9 + i))
    return a, b, c
