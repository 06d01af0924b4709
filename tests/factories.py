import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth.models import Group, User

from performance.models import Complaint, Order, Staff, Team, Ticket

TZ = ZoneInfo("Asia/Shanghai")


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
