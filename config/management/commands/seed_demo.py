"""A believable demo company, deterministic for a seed.

Dates are anchored on the first day of the current month (``--anchor`` to pin it):
the closed cycle is the month before, the open cycle the anchor's month, and
service data runs from ``--days`` before the anchor to two weeks after it.
"""

import datetime
import random
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone, translation

from commission.definitions import plan_load
from performance.appraisal.definitions import template_load
from performance.appraisal.models import KciRating, MetricSource, MetricValue
from performance.appraisal.selectors import kci_items
from performance.appraisal.services import cycle_close, cycle_create
from performance.common.documents import read_definition
from performance.common.money import round_half_up, round_money
from performance.management.base import ProductCommand, iso_date
from performance.org.models import Role, Staff, Team
from performance.qa.models import Inspection, Scorecard
from performance.qa.sampling import qa_sample
from performance.qa.services import inspection_submit
from performance.records.keys import sample_key
from performance.records.models import Order, ProductCategory, Ticket
from performance.sla.models import Complaint
from performance.sla.services import DueTimes

DEMO_PASSWORD = "demo12345"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建文斌宇浩凯健俊帆帅旭宁龙林欣怡佳琪晨阳雪梅婷"
TEAMS = [
    ("客服一组", Role.AGENT, 0.30),
    ("客服二组", Role.AGENT, 0.25),
    ("售前组", Role.PRESALES, 0.15),
    ("售后组", Role.AFTERSALES, 0.12),
    ("销售部", Role.SALES, 0.12),
    ("内容运营组", Role.OPERATOR, 0.06),
]
CATEGORIES = [
    ("cloud_server", 0.45, 3000),
    ("support_plan", 0.2, 1200),
    ("domain", 0.2, 120),
    ("consulting", 0.15, 8000),
]
PRESETS = Path(settings.BASE_DIR) / "performance" / "appraisal" / "presets"
PLANS = Path(settings.BASE_DIR) / "commission" / "presets"
DEMO_LOGINS = ("hr", "finance", "manager", "qa", "agent", "sales")
WORDS = Path(settings.BASE_DIR) / "config" / "demo"


def demo_words(language: str) -> dict:
    """The demo's business words for a language (config/demo/<language>.yaml), or none."""
    path = WORDS / f"{language}.yaml"
    return read_definition(path) if path.exists() else {}


class Command(ProductCommand):
    help = (
        "Create a realistic demo company: teams, every role, tickets, orders, complaints, a closed and an open cycle."
    )

    def add_arguments(self, parser):
        parser.add_argument("--staff", type=int, default=40)
        parser.add_argument("--days", type=int, default=45)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--anchor", type=iso_date, help="first day of the open cycle (default: this month's 1st)")
        parser.add_argument("--tickets-per-day", type=float, default=12.0, help="per service agent")
        parser.add_argument("--no-close", action="store_true", help="leave the earlier cycle open")
        parser.add_argument("--skip-if-present", action="store_true", help="do nothing when staff exist already")
        parser.add_argument(
            "--sales-orders-per-day", type=float, help="mean orders a seller closes a day (default 1.4)"
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=None,
            help="language of the business data: template, indicator, KCI item, rubric, plan and category "
            "names (default: LANGUAGE_CODE)",
        )

    def handle(
        self, staff, days, seed, anchor=None, tickets_per_day=12.0, no_close=False, skip_if_present=False, **options
    ):
        if skip_if_present and Staff.objects.exists():
            self.stdout.write("demo data present already; nothing to do")
            return
        if staff < 12:
            raise CommandError("--staff must be at least 12 (every role and team needs someone)")
        if Staff.objects.exists():
            raise CommandError("the database already has staff; seed_demo fills an empty database")
        language = (options.get("language") or settings.LANGUAGE_CODE).lower()
        if language not in dict(settings.LANGUAGES):
            raise CommandError(f"--language {language}: not one of {', '.join(dict(settings.LANGUAGES))}")
        self.words = demo_words(language)
        with translation.override(language):  # statement lines and other stored text in that language
            self._seed(staff, days, seed, anchor, tickets_per_day, no_close, options)

    def _seed(self, staff, days, seed, anchor, tickets_per_day, no_close, options):
        self.rng = random.Random(seed)
        self.sales_per_day = options.get("sales_orders_per_day")
        self.tz = ZoneInfo(settings.TIME_ZONE)
        today = timezone.localdate()
        self.anchor = anchor or today.replace(day=1)
        self.start = self.anchor - datetime.timedelta(days=days)
        self.end = self.anchor + datetime.timedelta(days=14)
        with transaction.atomic():
            for path in sorted(PRESETS.glob("*.yaml")):
                template_load(data=self._template_words(read_definition(path)))
            for path in sorted(PLANS.glob("*.yaml")):
                data = read_definition(path)
                plan_load(data={**data, "name": self.words.get("plans", {}).get(data["code"], data["name"])})
            self._business_words()
            members = self._people(staff)
            self._tickets(members, tickets_per_day)
            self._orders(members)
            self._complaints(members)
            closed, open_ = self._cycles(members)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")  # planner statistics for the freshly loaded tables
        if not no_close:
            cycle_close(cycle=closed, inline=True)
        self.stdout.write(
            self.style.SUCCESS(
                f"demo company: {Staff.objects.count()} staff, {Ticket.objects.count()} tickets, "
                f"{Order.objects.count()} orders, {Complaint.objects.count()} complaints; "
                f"cycles {closed.name} ({'open' if no_close else 'closed'}) and {open_.name} (open)"
            )
        )
        self.stdout.write(f"demo logins (password {DEMO_PASSWORD}): {', '.join(DEMO_LOGINS)}")

    # --- business words in the demo's language ------------------------------------------------

    def _template_words(self, data: dict) -> dict:
        words = self.words.get("templates", {}).get(data["code"])
        if not words:
            return data
        names = words.get("indicators", {})
        sections = [
            {
                **section,
                "indicators": [{**i, "name": names.get(i["code"], i.get("name", ""))} for i in section["indicators"]],
            }
            for section in data["sections"]
        ]
        return {**data, "name": words.get("name", data["name"]), "sections": sections}

    def _business_words(self):
        """Product category names, and the default QA rubric's names, in the demo's language."""
        ProductCategory.objects.bulk_create(
            ProductCategory(code=code, name=name) for code, name in self.words.get("categories", {}).items()
        )
        rubric = self.words.get("rubric")
        if rubric:
            card = Scorecard.objects.filter(code="default").order_by("-version").first()
            if card is not None:
                card.name = rubric.get("name", card.name)
                card.save(update_fields=["name"])
                for item in card.items.all():
                    if item.code in rubric.get("items", {}):
                        item.name = rubric["items"][item.code]
                        item.save(update_fields=["name"])

    # --- people ------------------------------------------------------------------------------

    def _name(self):
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))

    def _people(self, n):
        rng = self.rng
        groups = {g.name: g for g in Group.objects.all()}
        root = Team.objects.create(name="服务中心")
        qa_team = Team.objects.create(name="质检组", parent=root)
        members = []
        counter = iter(range(1, 10**6))

        def make(team, role, manager=None, username=None, group_names=("Staff",), is_staff=False):
            eno = f"E{next(counter):05d}"
            user = User(username=username or eno, is_staff=is_staff)
            user.set_password(DEMO_PASSWORD) if username else user.set_unusable_password()
            user.save()
            user.groups.add(*[groups[g] for g in group_names])
            name = self._name()
            member = Staff.objects.create(
                user=user,
                employee_no=eno,
                name=name,
                email=f"{eno.lower()}@example.com",
                team=team,
                role=role,
                manager=manager,
                hired_on=self.anchor - datetime.timedelta(days=rng.randint(60, 2000)),
            )
            member.quality = rng.uniform(0.75, 1.15)
            return member

        director = make(root, Role.MANAGER, group_names=("Staff", "Manager"))
        members.append(director)
        remaining = n - 1 - 2
        for i, (team_name, role, share) in enumerate(TEAMS):
            team = Team.objects.create(name=team_name, parent=root)
            manager = make(
                team, Role.MANAGER, director, username="manager" if i == 0 else None, group_names=("Staff", "Manager")
            )
            members.append(manager)
            size = max(2, int(round_half_up(Decimal(repr(share)) * remaining, 0)) - 1)
            for j in range(size):
                username = {(0, 0): "agent", (4, 0): "sales"}.get((i, j))
                members.append(make(team, role, manager, username=username))
        for k in range(2):
            members.append(
                make(qa_team, Role.INSPECTOR, director, username="qa" if k == 0 else None, group_names=("Staff", "QA"))
            )
            members[-1].is_inspector = True
        for username, group in (("hr", "HR"), ("finance", "Finance")):
            user = User.objects.create_user(username, f"{username}@example.com", DEMO_PASSWORD, is_staff=True)
            user.groups.add(groups[group])
        self.members = members
        self.quality = {m.pk: m.quality for m in members}
        return members

    def _when(self, day, lo=8, hi=22):
        hour = self.rng.randint(lo, hi - 1)
        return datetime.datetime.combine(
            day, datetime.time(hour, self.rng.randint(0, 59), self.rng.randint(0, 59)), tzinfo=self.tz
        )

    # --- service data --------------------------------------------------------------------------

    def _tickets(self, members, per_day):
        rng = self.rng
        kinds = {Role.AGENT: "support", Role.PRESALES: "inquiry", Role.AFTERSALES: "aftersales"}
        channels = ["chat"] * 6 + ["phone"] * 2 + ["email", "social"]
        batch, seq = [], 0
        self.inquiries = []
        days = (self.end - self.start).days
        for m in members:
            if m.role not in kinds or getattr(m, "is_inspector", False):
                continue
            q = m.quality
            for d in range(days):
                day = self.start + datetime.timedelta(days=d)
                if day.weekday() == 6 and rng.random() < 0.7:
                    continue
                for _ in range(max(0, int(rng.gauss(per_day * q, per_day * 0.3)))):
                    seq += 1
                    created = self._when(day)
                    frt = (
                        None
                        if rng.random() < 0.03
                        else created + datetime.timedelta(seconds=int(rng.lognormvariate(4.0, 0.7) / q))
                    )
                    resolved = (
                        created + datetime.timedelta(seconds=int(rng.lognormvariate(7.0, 0.8)))
                        if (rng.random() < 0.85 * min(q, 1.1))
                        else None
                    )
                    rating = None
                    if rng.random() < 0.6:
                        r = rng.random() * q
                        rating = 5 if r > 0.45 else 4 if r > 0.22 else 3 if r > 0.12 else 2 if r > 0.06 else 1
                    t = Ticket(
                        external_id=f"T{seq:08d}",
                        qa_key=sample_key(f"T{seq:08d}"),
                        staff_id=m.pk,
                        kind=kinds[m.role],
                        channel=rng.choice(channels),
                        customer_id=f"C{rng.randint(1, 5000):05d}",
                        created_at=created,
                        first_response_at=frt,
                        avg_response_seconds=int(rng.lognormvariate(4.6, 0.5) / q),
                        resolved_at=resolved,
                        reopened=resolved is not None and rng.random() < 0.08,
                        rating=rating,
                    )
                    batch.append(t)
                    if len(batch) >= 5000:
                        self._flush_tickets(batch)
        self._flush_tickets(batch)

    def _flush_tickets(self, batch):
        Ticket.objects.bulk_create(batch, batch_size=5000)
        ids = dict(
            Ticket.objects.filter(external_id__in=[t.external_id for t in batch if t.kind == "inquiry"]).values_list(
                "external_id", "id"
            )
        )
        self.inquiries += [
            (ids[t.external_id], t.staff_id, t.created_at, t.customer_id) for t in batch if t.kind == "inquiry"
        ]
        batch.clear()

    def _category(self):
        r, acc = self.rng.random(), 0.0
        for name, share, typical in CATEGORIES:
            acc += share
            if r <= acc:
                return name, typical
        return CATEGORIES[-1][0], CATEGORIES[-1][2]

    def _order(self, seq, staff_id, customer, paid, ticket_id=None, renewal=False):
        rng = self.rng
        category, typical = self._category()
        amount = Decimal(int(rng.lognormvariate(0, 0.8) * typical * 100)) / 100
        if rng.random() < 0.01:  # the odd high-value order
            amount = Decimal(rng.randint(50000, 120000))
        refunded, refunded_at = Decimal("0.00"), None
        if rng.random() < 0.05:
            refunded = round_money(amount * Decimal(rng.choice(("1", "0.5", "0.3"))))
            refunded_at = paid + datetime.timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 12))
        term = paid.date() + datetime.timedelta(days=365) if category in ("cloud_server", "support_plan") else None
        return Order(
            external_id=f"O{seq:08d}",
            staff_id=staff_id,
            customer_id=customer,
            product_category=category,
            amount=amount,
            ordered_at=paid - datetime.timedelta(minutes=rng.randint(1, 600)),
            paid_at=paid,
            ticket_id=ticket_id,
            is_renewal=renewal,
            term_end=term,
            refunded_amount=refunded,
            refunded_at=refunded_at,
        )

    def _orders(self, members):
        rng = self.rng
        orders, seq = [], 0
        sellers = [m for m in members if m.role == Role.SALES]
        for ticket_id, staff_id, created, customer in self.inquiries:
            if rng.random() < 0.12:  # about one inquiry in eight converts
                seq += 1
                orders.append(
                    self._order(
                        seq,
                        staff_id,
                        customer,
                        created + datetime.timedelta(hours=rng.randint(1, 72)),
                        ticket_id=ticket_id,
                    )
                )
        days = (self.end - self.start).days
        for m in sellers:
            for d in range(days):
                day = self.start + datetime.timedelta(days=d)
                for _ in range(
                    rng.choice((0, 1, 1, 2, 3))
                    if self.sales_per_day is None
                    else int(rng.expovariate(1 / self.sales_per_day) + 0.5)
                ):
                    seq += 1
                    customer = f"C{rng.randint(1, 5000):05d}"
                    orders.append(self._order(seq, m.pk, customer, self._when(day, 9, 20), renewal=rng.random() < 0.2))
            # customers whose yearly term ends in the demo window, most of whom renew
            for _ in range(rng.randint(4, 10)):
                seq += 1
                customer = f"R{m.pk:03d}{seq:06d}"
                due = self.start + datetime.timedelta(days=rng.randint(0, days - 1))
                first = self._order(seq, m.pk, customer, self._when(due - datetime.timedelta(days=365), 9, 18))
                first.product_category, first.term_end = "cloud_server", due
                first.refunded_amount, first.refunded_at = Decimal("0.00"), None
                orders.append(first)
                if rng.random() < 0.7 * m.quality:
                    seq += 1
                    renew = self._order(
                        seq,
                        m.pk,
                        customer,
                        self._when(due - datetime.timedelta(days=rng.randint(0, 20)), 9, 18),
                        renewal=True,
                    )
                    renew.product_category = "cloud_server"
                    orders.append(renew)
        Order.objects.bulk_create(orders, batch_size=5000)

    def _complaints(self, members):
        rng = self.rng
        due = DueTimes()
        handlers = [m for m in members if m.role == Role.MANAGER] or members
        agents = [m for m in members if m.role in (Role.AGENT, Role.PRESALES, Role.AFTERSALES, Role.SALES)]
        days = (self.end - self.start).days
        rows = []
        for i in range(max(10, len(agents) * days // 15)):
            day = self.start + datetime.timedelta(days=rng.randrange(days))
            received = self._when(day, 0, 24)
            priority = rng.choices(["low", "normal", "high", "urgent"], [0.3, 0.45, 0.18, 0.07])[0]
            first_due, resolution_due = due.for_complaint(priority, received)
            against = rng.choice(agents)
            handler = rng.choice([h for h in handlers if h.pk == against.manager_id] or handlers)
            window = (first_due - received).total_seconds()
            frt = (
                received + datetime.timedelta(seconds=int(window * rng.uniform(0.1, 1.3)))
                if rng.random() < 0.95
                else None
            )
            resolved = None
            if frt and rng.random() < 0.85:
                span = (resolution_due - received).total_seconds()
                resolved = max(frt, received + datetime.timedelta(seconds=int(span * rng.uniform(0.2, 1.25))))
            confirmed = (
                resolved + datetime.timedelta(hours=rng.randint(1, 30)) if resolved and rng.random() < 0.8 else None
            )
            rows.append(
                Complaint(
                    external_id=f"CP{i + 1:06d}",
                    staff=against,
                    handler=handler,
                    customer_id=f"C{rng.randint(1, 5000):05d}",
                    channel=rng.choice(["chat", "phone", "email", "social"]),
                    priority=priority,
                    received_at=received,
                    first_response_at=frt,
                    resolved_at=resolved,
                    confirmed_at=confirmed,
                    summary=rng.choice(["回复太慢", "问题未解决", "服务态度差", "退款进度", "账单有误", "多次转接"]),
                    first_response_due=first_due,
                    resolution_due=resolution_due,
                )
            )
        Complaint.objects.bulk_create(rows, batch_size=5000)

    # --- cycles ----------------------------------------------------------------------------------

    def _cycles(self, members):
        previous = (self.anchor - datetime.timedelta(days=1)).replace(day=1)
        next_month = (self.anchor + datetime.timedelta(days=32)).replace(day=1)
        closed = cycle_create(name=previous.strftime("%Y-%m"), start=previous, end=self.anchor)
        open_ = cycle_create(name=self.anchor.strftime("%Y-%m"), start=self.anchor, end=next_month)
        rng = self.rng
        ratings = []
        for cycle in (closed, open_):
            for m in members:
                codes = self._kci_codes(cycle, m.role)
                if cycle is open_ and rng.random() < 0.5:
                    continue
                for code in codes:
                    score = min(5, max(1, int(round_half_up(Decimal(rng.gauss(3.8 * m.quality, 0.7)), 0))))
                    ratings.append(
                        KciRating(
                            cycle=cycle,
                            staff=m,
                            indicator=code,
                            rating=Decimal(score),
                            comment=rng.choice(["", "积极主动", "需要加强沟通", "表现稳定"]),
                            rated_by_id=m.manager_id,
                        )
                    )
        KciRating.objects.bulk_create(ratings, batch_size=2000)
        operators = [m for m in members if m.role == Role.OPERATOR]
        MetricValue.objects.bulk_create(
            MetricValue(
                cycle=closed,
                staff=m,
                metric=code,
                value=Decimal(int(rng.uniform(0.4, 1.3) * target)),
                source=MetricSource.IMPORTED,
            )
            for m in operators
            for code, target in (
                ("followers_gained", 2000),
                ("posts_published", 30),
                ("plays", 500000),
                ("interactions", 20000),
                ("top_video_plays", 80000),
            )
        )
        week = previous - datetime.timedelta(days=previous.weekday())
        while week < self.anchor:
            qa_sample(start=max(week, previous), end=min(week + datetime.timedelta(days=7), self.anchor), seed="demo")
            week += datetime.timedelta(days=7)
        inspectors = [m for m in members if getattr(m, "is_inspector", False)]
        pending = Inspection.objects.filter(status="pending").select_related("ticket", "scorecard").order_by("id")
        # 90% of the sample is scored, at most 2,000 (the rest stays in the inspectors' queue)
        for inspection in pending[: min(2000, max(1, int(pending.count() * 0.9)))]:
            items = list(inspection.scorecard.items.all())
            quality = self.quality[inspection.ticket.staff_id]
            scores = {it.pk: min(100, max(40, int(rng.gauss(86 * quality, 10)))) for it in items}
            actor = inspectors[0] if inspectors[0].pk != inspection.ticket.staff_id else inspectors[1]
            inspection_submit(
                inspection=inspection,
                scores=scores,
                actor=actor.user,
                root_cause=rng.choice(["话术不规范", "未按流程核实", "解决方案错误"]),
            )
        return closed, open_

    def _kci_codes(self, cycle, role):
        if not hasattr(self, "_codes"):
            self._codes = {}
        if cycle.pk not in self._codes:
            self._codes[cycle.pk] = {r: [i.code for i in items] for r, items in kci_items(cycle=cycle).items()}
        return self._codes[cycle.pk].get(role, [])
