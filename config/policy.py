"""The permission matrix: who may do what, as data, in one place.

Every door asks it through ``performance.common.authority`` (``can`` / ``require`` /
``door``): the pages, the admin (``has_*_permission``, actions' ``permissions=``, custom
admin views, django-import-export's import and export), the management commands that act
as a login, and the services. ``install()`` (called by ``ConfigConfig.ready``) turns each
row into one ``rules`` permission; a door whose action has no row here is refused, and the
test that walks every door (tests/test_doors.py) fails.

A row names, per role, the objects the role may act on (``ANY`` of them, its ``OWN``, its
``REPORTS``' subtree), and the conditions that refuse whoever asks (a locked row, one's own
payout). docs/permissions.md shows the same table; tests/test_policy.py keeps the two equal.
"""

from typing import NamedTuple

import rules
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from commission.models import LineKind, Payout, PayoutLine, StatementQuery
from performance.common import authority, locking
from performance.models import Appeal, Appraisal, CycleState, Inspection, Staff
from performance.org.selectors import report_ids

HR, FINANCE, MANAGER, QA, STAFF, SUPERUSER = "HR", "Finance", "Manager", "QA", "Staff", "superuser"
ROLES = (HR, FINANCE, MANAGER, QA, STAFF, SUPERUSER)

ANY, OWN, REPORTS = "any", "own", "reports"


class Rule(NamedTuple):
    who: dict  # role -> ANY | OWN | REPORTS
    unless: tuple = ()  # condition names (CONDITIONS) that refuse whoever asks


def _all(*roles, unless=()):
    return Rule({r: ANY for r in roles}, tuple(unless))


# --- conditions that refuse an action on an object, whoever asks ---------------------------


def member_id(obj):
    """The staff member an object is about (a payout's payee, an appraisal's member …), or None."""
    if isinstance(obj, Staff):
        return obj.pk
    if isinstance(obj, Inspection):
        return obj.ticket.staff_id
    if isinstance(obj, StatementQuery):
        return obj.payout.staff_id
    if isinstance(obj, Appeal):
        return obj.appraisal.staff_id
    return getattr(obj, "staff_id", None)


@rules.predicate
def row_locked(user, obj):
    return obj is not None and not locking.may_change(obj)


@rules.predicate
def row_kept(user, obj):
    return obj is not None and locking.is_locked(obj)


@rules.predicate
def own_payout(user, obj):
    """Separation of duties: nobody approves, adjusts or answers on their own payout."""
    if obj is None or not settings.SEPARATION_OF_DUTIES["OWN_PAYOUT"]:
        return False
    payout = obj.payout if isinstance(obj, StatementQuery) else obj
    me = getattr(user, "staff", None)
    return me is not None and payout.staff_id == me.pk


@rules.predicate
def adjusted_by_them(user, obj):
    """Separation of duties: the author of an adjustment does not approve that payout."""
    if obj is None or not settings.SEPARATION_OF_DUTIES["ADJUSTER_APPROVES"]:
        return False
    adjusters = getattr(obj, "adjusted_by", None)
    if adjusters is not None:  # read for many payouts at once by commission.selectors.with_adjusters
        return user.pk in adjusters
    return PayoutLine.objects.filter(payout=obj, kind=LineKind.ADJUSTMENT, created_by=user).exists()


@rules.predicate
def cycle_not_new(user, obj):
    """Only a cycle that never closed (draft or open, without results) can be deleted."""
    if obj is None:
        return False
    return obj.state not in (CycleState.DRAFT, CycleState.OPEN) or obj.appraisals.exists()


@rules.predicate
def member_has_results(user, obj):
    """A member with results or payouts is deactivated, not deleted (their history stays)."""
    if obj is None:
        return False
    return Appraisal.objects.filter(staff=obj).exists() or Payout.objects.filter(staff=obj).exists()


CONDITIONS = {
    "locked": (row_locked, _("the row is locked (finalized or approved cycle, approved payout, decided appeal …)")),
    "kept": (row_kept, _("the row is locked: locked rows are never deleted")),
    "own payout": (own_payout, _("it is the login's own payout (separation of duties)")),
    "adjusted by them": (adjusted_by_them, _("the login added an adjustment to it (separation of duties)")),
    "cycle has run": (cycle_not_new, _("the cycle has closed once or has results")),
    "member has results": (member_has_results, _("the member has appraisals or payouts")),
}


# --- the matrix -----------------------------------------------------------------------------

HR_ONLY = (HR, SUPERUSER)
FINANCE_ONLY = (FINANCE, SUPERUSER)


def _model(
    app_model, *, view, edit, delete=None, add=None, unless_edit=("locked",), unless_delete=("kept",), extra=None
):
    """The usual rows of an admin model: view, add, change, delete (and any extra verbs)."""
    app, model = app_model.split(".")
    rows = {
        f"{app}.view_{model}": _all(*view),
        f"{app}.add_{model}": _all(*(edit if add is None else add), unless=unless_edit),
        f"{app}.change_{model}": _all(*edit, unless=unless_edit),
        f"{app}.delete_{model}": _all(*(edit if delete is None else delete), unless=unless_delete),
    }
    for verb, rule in (extra or {}).items():
        rows[f"{app}.{verb}_{model}"] = rule
    return rows


def _imports(*roles):
    return {"import": _all(*roles), "export": _all(*roles)}


MATRIX: dict[str, Rule] = {
    # appraisal cycles: HR runs them; a superuser alone takes a finalized cycle back
    **_model(
        "performance.appraisalcycle",
        view=(HR, FINANCE, SUPERUSER),
        edit=HR_ONLY,
        unless_delete=("kept", "cycle has run"),
        extra={
            "close": _all(*HR_ONLY, unless=("locked",)),
            "retry_close": _all(*HR_ONLY, unless=("locked",)),  # a close that failed or stalled
            "finalize": _all(*HR_ONLY),
            "reopen": _all(SUPERUSER),
        },
    ),
    **_model("performance.appraisaltemplate", view=HR_ONLY, edit=HR_ONLY),
    **_model("performance.section", view=HR_ONLY, edit=HR_ONLY),
    # results: members see their own, managers their reports', HR calibrates
    "performance.view_appraisal": Rule({HR: ANY, FINANCE: ANY, SUPERUSER: ANY, MANAGER: REPORTS, STAFF: OWN}),
    "performance.add_appraisal": Rule({}),
    "performance.change_appraisal": _all(*HR_ONLY, unless=("locked",)),  # calibrate
    "performance.delete_appraisal": _all(SUPERUSER, unless=("kept",)),
    "performance.view_own_results": _all(STAFF, MANAGER, QA),
    "performance.view_team_page": _all(HR, MANAGER, SUPERUSER),
    "performance.view_hr_dashboard": _all(*HR_ONLY),
    # KCI ratings: managers rate their reports on their pages; HR edits and imports in the admin
    **_model("performance.kcirating", view=HR_ONLY, edit=HR_ONLY, extra=_imports(*HR_ONLY)),
    "performance.rate_kci": Rule({HR: ANY, SUPERUSER: ANY, MANAGER: REPORTS}),
    **_model("performance.metricvalue", view=HR_ONLY, edit=HR_ONLY, extra=_imports(*HR_ONLY)),
    # appeals: a member files on their own result, HR decides once
    "performance.view_appeal": _all(*HR_ONLY),
    "performance.add_appeal": Rule({STAFF: OWN}),
    "performance.change_appeal": _all(*HR_ONLY, unless=("locked",)),  # decide
    "performance.delete_appeal": _all(SUPERUSER, unless=("kept",)),
    # the organisation
    **_model(
        "performance.staff",
        view=(HR, FINANCE, SUPERUSER),
        edit=HR_ONLY,
        unless_edit=(),
        unless_delete=("member has results",),
        extra=_imports(*HR_ONLY),
    ),
    **_model("performance.team", view=(HR, FINANCE, SUPERUSER), edit=HR_ONLY, unless_edit=()),
    **_model("performance.productcategory", view=(HR, FINANCE, SUPERUSER), edit=HR_ONLY, unless_edit=()),
    # service records: inputs of scores and commission, HR imports them; locked in locked cycles
    **_model("performance.ticket", view=HR_ONLY, edit=HR_ONLY, extra=_imports(*HR_ONLY)),
    **_model(
        "performance.order",
        view=(HR, FINANCE, SUPERUSER),
        edit=HR_ONLY,
        extra={"import": _all(*HR_ONLY), "export": _all(HR, FINANCE, SUPERUSER)},
    ),
    **_model("performance.complaint", view=HR_ONLY, edit=HR_ONLY, extra=_imports(*HR_ONLY)),
    # SLA policies and the business calendar
    **_model("performance.slapolicy", view=HR_ONLY, edit=HR_ONLY, unless_edit=()),
    **_model("performance.businesscalendar", view=HR_ONLY, edit=HR_ONLY, unless_edit=()),
    **_model("performance.calendarday", view=HR_ONLY, edit=HR_ONLY, unless_edit=(), extra=_imports(*HR_ONLY)),
    # quality inspection: inspectors work on their pages, HR sets up scorecards and rounds
    **_model("performance.inspection", view=(HR, QA, SUPERUSER), edit=HR_ONLY, add=(), delete=(SUPERUSER,)),
    **_model("performance.scorecard", view=(HR, QA, SUPERUSER), edit=HR_ONLY, unless_edit=()),
    **_model("performance.calibrationround", view=(HR, QA, SUPERUSER), edit=HR_ONLY, unless_edit=()),
    "performance.inspect": _all(QA),  # an inspector scores as their staff record
    "performance.view_qa_dashboard": _all(QA, HR, SUPERUSER),
    "performance.dispute_inspection": Rule({STAFF: OWN}),
    # the record of every import, written by the imports themselves
    "performance.view_importbatch": _all(HR, FINANCE, SUPERUSER),
    "performance.add_importbatch": Rule({}),
    "performance.change_importbatch": Rule({}),
    "performance.delete_importbatch": Rule({}),
    # commission plans: finance's; a version a cycle uses is read-only
    **_model("commission.commissionplan", view=(HR, FINANCE, SUPERUSER), edit=FINANCE_ONLY, unless_edit=()),
    **_model("commission.planversion", view=(HR, FINANCE, SUPERUSER), edit=FINANCE_ONLY),
    # payouts: computed by the close, moved by finance, seen by their payee and managers
    "commission.view_payout": Rule({HR: ANY, FINANCE: ANY, SUPERUSER: ANY, MANAGER: REPORTS, STAFF: OWN}),
    "commission.add_payout": Rule({}),
    "commission.change_payout": Rule({}),
    "commission.delete_payout": _all(SUPERUSER, unless=("kept",)),
    "commission.approve_payout": _all(*FINANCE_ONLY, unless=("own payout", "adjusted by them")),
    "commission.hold_payout": _all(*FINANCE_ONLY),
    "commission.unlock_payout": _all(*FINANCE_ONLY),
    "commission.adjust_payout": _all(*FINANCE_ONLY, unless=("own payout",)),
    "commission.payroll_payout": _all(*FINANCE_ONLY),
    "commission.pay_payout": _all(*FINANCE_ONLY),
    "commission.export_payout": _all(HR, FINANCE, SUPERUSER),
    "commission.view_own_statements": _all(STAFF, MANAGER, QA),
    **_model("commission.cyclebudget", view=FINANCE_ONLY, edit=FINANCE_ONLY, unless_edit=()),
    "commission.view_budget": _all(*FINANCE_ONLY),
    # statement questions: members ask about their own payout, finance answers (not their own)
    "commission.view_statementquery": _all(*FINANCE_ONLY),
    "commission.add_statementquery": Rule({STAFF: OWN}),
    "commission.change_statementquery": _all(*FINANCE_ONLY, unless=("own payout", "locked")),  # answer
    "commission.delete_statementquery": _all(SUPERUSER, unless=("kept",)),
    # payroll batches: written once by the export, downloaded again as often as needed
    "commission.view_exportbatch": _all(*FINANCE_ONLY),
    "commission.download_exportbatch": _all(*FINANCE_ONLY),
    "commission.add_exportbatch": Rule({}),
    "commission.change_exportbatch": Rule({}),
    "commission.delete_exportbatch": Rule({}),
    # logins and groups: a role is a group; HR changes it through the member's role
    **_model("auth.user", view=(SUPERUSER,), edit=(SUPERUSER,), unless_edit=()),
    **_model("auth.group", view=(SUPERUSER,), edit=(SUPERUSER,), unless_edit=()),
    # login throttling (django-axes): HR unlocks a member's login; the attempts are read-only records
    "performance.unlock_staff": _all(*HR_ONLY),
    "axes.view_accessattempt": _all(*HR_ONLY),
    "axes.add_accessattempt": Rule({}),
    "axes.change_accessattempt": Rule({}),
    "axes.delete_accessattempt": _all(*HR_ONLY),
    "axes.cleanup_accessattempt": _all(*HR_ONLY),
    "axes.view_accesslog": _all(*HR_ONLY),
    "axes.add_accesslog": Rule({}),
    "axes.change_accesslog": Rule({}),
    "axes.delete_accesslog": Rule({}),
    "axes.view_accessfailurelog": _all(*HR_ONLY),
    "axes.add_accessfailurelog": Rule({}),
    "axes.change_accessfailurelog": Rule({}),
    "axes.delete_accessfailurelog": Rule({}),
}


# --- turning the matrix into rules ---------------------------------------------------------


@rules.predicate
def is_owner(user, obj):
    me = getattr(user, "staff", None)
    return obj is not None and me is not None and member_id(obj) == me.pk


@rules.predicate
def is_their_report(user, obj):
    me = getattr(user, "staff", None)
    if obj is None or me is None:
        return False
    cache = getattr(user, "_policy_reports", None)
    if cache is None:
        cache = user._policy_reports = report_ids(manager_id=me.pk)
    return member_id(obj) in cache


ROLE_PREDICATES = {
    HR: rules.is_group_member(HR),
    FINANCE: rules.is_group_member(FINANCE),
    MANAGER: rules.is_group_member(MANAGER),
    QA: rules.is_group_member(QA),
    STAFF: rules.is_group_member(STAFF),
    SUPERUSER: rules.is_superuser,
}
SCOPES = {ANY: rules.always_allow, OWN: is_owner, REPORTS: is_their_report}


def predicate_of(rule: Rule):
    allowed = rules.always_deny
    # the superuser first: answered from the login row, without reading its groups
    for role, scope in sorted(rule.who.items(), key=lambda item: item[0] != SUPERUSER):
        allowed = allowed | (ROLE_PREDICATES[role] & SCOPES[scope])
    for name in rule.unless:
        allowed = allowed & ~CONDITIONS[name][0]
    return rules.is_active & allowed


def explain(user, perm, obj=None) -> list:
    """Why the matrix refuses ``user`` ``perm`` (on ``obj``), in words, for the refusal's message."""
    rule = MATRIX.get(perm)
    if rule is None:
        return [_("no rule of the permission matrix allows it")]
    if user is None or not user.is_active:
        return [_("the login is inactive")]
    reasons = [str(text) for name, (pred, text) in CONDITIONS.items() if name in rule.unless and pred.test(user, obj)]
    if reasons:
        return reasons
    return [_("the login's roles do not allow it")]


def install() -> None:
    """One ``rules`` permission per row (again: replaces them, so a test can change the matrix)."""
    for perm, rule in MATRIX.items():
        rules.set_perm(perm, predicate_of(rule))
    if explain not in authority.EXPLAINERS:
        authority.EXPLAINERS.append(explain)


# --- the matrix as the table docs/permissions.md shows ---------------------------------------

CELLS = {ANY: "✓", OWN: "own", REPORTS: "reports"}


def matrix_table() -> str:
    """The matrix as a Markdown table: one row per action, one column per role, then its conditions."""
    lines = [
        "| action | " + " | ".join(ROLES) + " | refused when |",
        "|---|" + "---|" * len(ROLES) + "---|",
    ]
    for perm in sorted(MATRIX):
        rule = MATRIX[perm]
        cells = [CELLS.get(rule.who.get(role), "—") for role in ROLES]
        unless = "; ".join(rule.unless) or ""
        lines.append(f"| `{perm}` | " + " | ".join(cells) + f" | {unless} |")
    return "\n".join(lines) + "\n"
