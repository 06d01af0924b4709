"""The door walker: every URL of the URL conf, every admin view and action, asked as every role.

It finds the doors itself (the resolver's patterns, ``admin.site._registry``, each admin's
actions) and compares what each door does with what the permission matrix answers. A door
whose rule is not in the matrix, a page with no declared rule, an admin action without
``permissions=``, or a door whose answer differs from the matrix is a problem.
"""

import datetime
from decimal import Decimal

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from commission.definitions import plan_load
from commission.models import CycleBudget, ExportBatch, Payout, StatementQuery
from config import policy
from performance.appraisal.definitions import template_load
from performance.appraisal.services import cycle_close, cycle_create
from performance.common.authority import LOGIN, PUBLIC, can, perm_name
from performance.models import (
    Appeal,
    Appraisal,
    AppraisalCycle,
    BusinessCalendar,
    CalendarDay,
    CalibrationRound,
    ImportBatch,
    Inspection,
    KciRating,
    MetricSource,
    MetricValue,
    ProductCategory,
    Scorecard,
    Ticket,
)
from performance.qa.sampling import qa_sample
from tests.factories import (
    AGENT_TEMPLATE,
    PLAN,
    ComplaintFactory,
    OrderFactory,
    StaffFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    local,
)

ROLES = policy.ROLES
# Django's own doors: anyone may open them (login, logout, language), or the admin site's pages that
# list only what the matrix lets each login see (index, app list, autocomplete ask the model admins)
FRAMEWORK = {"login", "logout", "set_language"}
ADMIN_SITE = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
    "search",  # the admin theme's search: apps and models the login may see, as the index lists them
    None,
}
MODEL_VIEWS = {
    "changelist_view": ("view", False),
    "add_view": ("add", False),
    "change_view": ("view|change", True),
    "delete_view": ("delete", True),
    "history_view": ("view|change", True),
    "history_form_view": ("view|change", True),
    "import_action": ("import", False),
    "process_import": ("import", False),
    "export_action": ("export", False),
}


def build_world():
    """One row of everything a door can show, around one member (the Staff role's login)."""
    template_load(data={**AGENT_TEMPLATE, "role": "sales", "code": "sales", "eligibility": {"min_tickets": 0}})
    plan_load(data=PLAN)
    team = TeamFactory(name="Sales")
    ProductCategory.objects.get_or_create(code="cloud_server", defaults={"name": "Cloud server"})
    users = {
        "HR": UserFactory(username="w-hr", groups=["HR"], is_staff=True),
        "Finance": UserFactory(username="w-fin", groups=["Finance"], is_staff=True),
        "superuser": UserFactory(username="w-root", is_staff=True, is_superuser=True),
    }
    boss = StaffFactory(
        employee_no="W-M",
        role="manager",
        team=team,
        user=UserFactory(username="w-mgr", groups=["Staff", "Manager"], is_staff=True),
    )
    subject = StaffFactory(
        employee_no="W-S",
        role="sales",
        team=team,
        manager=boss,
        user=UserFactory(username="w-staff", groups=["Staff"], is_staff=True),
    )
    inspector = StaffFactory(
        employee_no="W-Q", team=team, user=UserFactory(username="w-qa", groups=["Staff", "QA"], is_staff=True)
    )
    users.update({"Manager": boss.user, "Staff": subject.user, "QA": inspector.user})
    for i in range(3):
        TicketFactory(staff=subject, created_at=local(2026, 1, 5 + i, 10), rating=4)
    order = OrderFactory(staff=subject, paid_at=local(2026, 1, 6))
    ComplaintFactory(staff=subject, handler=subject)
    cycle = cycle_create(name="W-2026-01", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1))
    cycle_close(inline=True, cycle=cycle)
    cycle.refresh_from_db()
    appraisal = Appraisal.objects.get(cycle=cycle, staff=subject)
    payout = Payout.objects.get(cycle=cycle, staff=subject)
    Appeal.objects.create(appraisal=appraisal, reason="why")
    KciRating.objects.create(cycle=cycle, staff=subject, indicator="attitude", rating=Decimal(4))
    MetricValue.objects.create(cycle=cycle, staff=subject, metric="plays", value=1, source=MetricSource.IMPORTED)
    qa_sample(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 1), rate="1")
    rnd = CalibrationRound.objects.create(name="W", scorecard=Scorecard.objects.first())
    rnd.tickets.set(Ticket.objects.all()[:1])
    CalendarDay.objects.create(calendar=BusinessCalendar.objects.first(), date=datetime.date(2026, 10, 1))
    ImportBatch.objects.create(kind="orders", file_name="o.csv", door="command")
    StatementQuery.objects.create(payout=payout, question="?")
    CycleBudget.objects.create(cycle=cycle, amount=Decimal("10.00"))
    ExportBatch.objects.create(cycle=cycle, file_format="csv", checksum="0" * 64, payout_count=0, total=0)
    AccessAttempt.objects.create(username="someone", ip_address="10.0.0.1", failures_since_start=1)
    AccessLog.objects.create(username="someone", ip_address="10.0.0.1")
    AccessFailureLog.objects.create(username="someone", ip_address="10.0.0.1")
    samples = {
        Appraisal: appraisal,
        Payout: payout,
        Inspection: Inspection.objects.filter(ticket__staff=subject).first(),
        AppraisalCycle: cycle,
        type(subject): subject,
        type(order): order,
    }
    return users, samples


def sample(model, samples):
    if model in samples:
        return samples[model]
    return model._default_manager.order_by("pk").first()


def patterns(resolver=None, prefix=""):
    """(route, name, callback) of every URL pattern, through every include."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name, p.callback


def model_admin_of(callback):
    """The ModelAdmin and the method name behind an admin URL's callback, or (None, None)."""
    ma = getattr(callback, "model_admin", None)
    target = getattr(callback, "__wrapped__", None)
    while target is not None and not hasattr(target, "__self__") and hasattr(target, "__wrapped__"):
        target = target.__wrapped__
    owner = getattr(target, "__self__", None)
    if isinstance(owner, admin.ModelAdmin):
        return owner, target.__name__
    if ma is not None:
        return ma, getattr(target, "__name__", None)
    return None, None


def fill(route, values):
    """A concrete path for a route: each <converter:name> replaced from ``values``.

    A regular-expression route (simple-history's ``^([^/]+)/history/([^/]+)/$``) takes the
    object's id and the history record's id, in that order.
    """
    if "([^/]+)" in route:
        route = route.replace("([^/]+)", str(values["object_id"]), 1).replace("([^/]+)", str(values["version_id"]), 1)
        route = route.replace("^", "").replace("$", "")
    out, rest = "/", route
    while "<" in rest:
        head, _sep, tail = rest.partition("<")
        spec, _sep, rest = tail.partition(">")
        name = spec.split(":")[-1]
        out += head + str(values[name])
    return out + rest


def refused(response) -> bool:
    if response.status_code in (403, 404):
        return True
    if response.status_code == 302:
        return "/login/" in response["Location"]
    return False


def expected_admin(user, ma, verb, obj):
    return any(can(user, perm_name(ma.opts, v), obj) for v in verb.split("|"))


def walk(client, users, samples, roles=ROLES):
    """Every door for every role in ``roles``: a list of problems (empty when doors and matrix agree)."""
    problems = []
    known = set(policy.MATRIX)
    doors = []  # (path, method, expected(user) -> bool)
    for route, name, callback in patterns():
        if route.startswith("admin/"):
            ma, method = model_admin_of(callback)
            if ma is None:
                if name not in ADMIN_SITE:
                    problems.append(f"admin URL {route} ({name}) is neither a model admin's view nor a site view")
                continue
            obj = sample(ma.model, samples)
            if obj is None:
                problems.append(f"the walker has no {ma.model.__name__} to open {route} with")
                continue
            if method == "view" and route.endswith("<path:object_id>/"):
                continue  # Django's redirect of an old change URL to the change view, walked itself
            spec = MODEL_VIEWS.get(method)
            custom = getattr(getattr(ma, method, None), "door", None)
            if spec is None and custom is None:
                problems.append(f"admin view {route} ({method}) declares no rule (performance.common.admin.admin_door)")
                continue
            verb, with_obj = spec if spec else (custom, "<pk>" in route or "<id>" in route)
            for v in verb.split("|"):
                if perm_name(ma.opts, v) not in known:
                    problems.append(f"admin view {route}: the matrix has no rule {perm_name(ma.opts, v)}")
            history = getattr(obj, "history", None)
            version = history.order_by("pk").first() if method == "history_form_view" and history else None
            if method == "history_form_view" and version is None:
                continue
            values = {"object_id": obj.pk, "pk": obj.pk, "id": obj.pk, "version_id": getattr(version, "pk", 0)}
            values.update({"fmt": "csv"})
            path = fill(route, values)
            target = obj if with_obj else None
            doors.append(
                (
                    path,
                    "post" if method == "process_import" else "get",
                    lambda u, ma=ma, v=verb, t=target: expected_admin(u, ma, v, t),
                )
            )
            continue
        rule = getattr(callback, "door", None)
        if rule is None:
            if name not in FRAMEWORK:
                problems.append(f"URL {route} ({name}) declares no rule (performance.common.authority.door)")
            continue
        perm, obj_spec = rule
        if perm in (PUBLIC, LOGIN):
            doors.append((fill(route, {}), "get", lambda u: True))
            continue
        if perm not in known:
            problems.append(f"URL {route} ({name}): the matrix has no rule {perm}")
        values, target = {}, None
        for part in route.split("<")[1:]:
            kwarg = part.split(">")[0].split(":")[-1]
            model = obj_spec[1] if obj_spec and obj_spec[0] == kwarg else AppraisalCycle
            values[kwarg] = sample(model, samples).pk
        if obj_spec:
            target = sample(obj_spec[1], samples)
        method = "post" if name in ("appeal-create", "inspection-dispute") else "get"
        doors.append((fill(route, values), method, lambda u, p=perm, t=target: can(u, p, t)))

    factory = RequestFactory()
    for role in roles:
        user = User.objects.get(pk=users[role].pk)
        client.force_login(user)
        for path, method, expect in doors:
            response = getattr(client, method)(path)
            want = expect(User.objects.get(pk=user.pk))
            if refused(response) == want:
                problems.append(
                    f"{role} {method.upper()} {path}: {response.status_code}, matrix says {'yes' if want else 'no'}"
                )
        for model, ma in admin.site._registry.items():
            request = factory.get("/admin/")
            request.user = User.objects.get(pk=user.pk)
            available = ma.get_actions(request)
            for func, name, _desc in ma._get_base_actions():
                perms = getattr(func, "allowed_permissions", None)
                if not perms:
                    problems.append(f"admin action {model.__name__}.{name} has no permissions=")
                    continue
                for p in perms:
                    if perm_name(ma.opts, p) not in known:
                        problems.append(
                            f"admin action {model.__name__}.{name}: the matrix has no rule {perm_name(ma.opts, p)}"
                        )
                want = all(can(request.user, perm_name(ma.opts, p)) for p in perms)
                if (name in available) != want:
                    problems.append(
                        f"{role} action {model.__name__}.{name}: offered={name in available}, matrix says {want}"
                    )
        client.logout()
    return problems


def all_roles_exist():
    return set(Group.objects.values_list("name", flat=True)) >= {r for r in ROLES if r != "superuser"}
