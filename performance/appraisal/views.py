from collections import Counter
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from performance.common.authority import door
from performance.common.charts import bar_chart, line_chart
from performance.common.formatting import grade_label, value_display
from performance.common.numbers import bounded_decimal
from performance.common.windows import window_bounds
from performance.org.access import my_staff
from performance.org.models import Staff
from performance.org.selectors import visible_staff
from performance.qa.models import Inspection, InspectionScore, InspectionStatus
from performance.sla.breach import any_breached_q, met_q
from performance.sla.models import Complaint
from performance.sla.selectors import with_breaches

from . import reviews, rules
from .filters import AppraisalFilter
from .locks import cycle_lock
from .metrics import unit_of
from .models import Appraisal, AppraisalCycle, CycleState, KciRating
from .selectors import (
    appraisal_list,
    appraisal_with_breakdown,
    kci_items,
    kci_missing_page,
    metric_count_sum,
    with_effective,
)

PUBLISHED = [CycleState.REVIEW, CycleState.FINALIZED]


def breakdown(appraisal):
    """Rows for the breakdown table: every figure needed to redo the arithmetic."""
    rows = []
    sections = {s.code: s for s in appraisal.sections.all()}
    for ind in appraisal.indicators.all():
        rows.append(
            {
                "section": sections.get(ind.section),
                "ind": ind,
                "rule_text": rules.describe(ind.rule, ind.params),
                "raw_text": value_display(
                    ind.raw_value, "number" if rules.get(ind.rule).source == "rating" else unit_of(ind.metric)
                ),
                "share_pct": None if ind.effective_weight is None else ind.effective_weight * 100,
            }
        )
    return rows


@door("performance.view_own_results")
def my_results(request):
    me = my_staff(request)
    appraisals = list(
        appraisal_with_breakdown(
            with_effective(Appraisal.objects.filter(staff=me, cycle__state__in=PUBLISHED)).select_related(
                "cycle", "template", "staff"
            )
        ).order_by("-cycle__start")
    )
    latest = appraisals[0] if appraisals else None
    context = {"me": me, "appraisals": appraisals, "latest": latest}
    if latest:
        context.update(_appraisal_context(latest))
        series = {_("Final score"): [(a.cycle.name, a.effective_score) for a in reversed(appraisals)]}
        for a in reversed(appraisals):
            for i in a.indicators.all():
                if i.section == "kpi" or rules.get(i.rule).source != "rating":
                    series.setdefault(i.name or i.indicator, []).append((a.cycle.name, i.score))
        context["trend"] = line_chart(series, _("Score and KPI trend"))
        context["trend_points"] = len(appraisals)
    context["inspections"] = (
        Inspection.objects.filter(ticket__staff=me)
        .select_related("ticket")
        .prefetch_related(
            Prefetch(
                "scores", queryset=InspectionScore.objects.select_related("item").order_by("review", "item__position")
            )
        )
        .order_by("-sampled_at")[:20]
    )
    context["complaints"] = with_breaches(
        Complaint.objects.filter(Q(staff=me) | Q(handler=me)), now=timezone.now()
    ).order_by("-received_at")[:20]
    return render(request, "performance/my_results.html", context)


def _appraisal_context(appraisal):
    names = {i.indicator: i.name for i in appraisal.indicators.all() if i.name}
    kci = list(KciRating.objects.filter(cycle=appraisal.cycle, staff=appraisal.staff).select_related("rated_by"))
    for rating in kci:
        rating.item_name = names.get(rating.indicator, rating.indicator)
    deadline = reviews.appeal_deadline(appraisal.cycle)
    can_appeal = (
        appraisal.cycle.state == CycleState.REVIEW and deadline is not None and timezone.localdate() <= deadline
    )
    total = sum((i.contribution for i in appraisal.indicators.all() if i.contribution is not None), Decimal(0))
    return {
        "appraisal": appraisal,
        "rows": breakdown(appraisal),
        "kci": kci,
        "appeals": appraisal.appeals.all(),
        "appeal_deadline": deadline,
        "can_appeal": can_appeal,
        "contribution_total": total,
    }


@door("performance.view_appraisal", obj=("pk", Appraisal))
def appraisal_detail(request, pk):
    qs = appraisal_with_breakdown(appraisal_list(viewer=request.user).filter(cycle__state__in=PUBLISHED))
    appraisal = get_object_or_404(qs, pk=pk)
    return render(request, "performance/appraisal_detail.html", _appraisal_context(appraisal))


@require_POST
@door("performance.add_appeal", obj=("pk", Appraisal))
def appeal_create(request, pk):
    me = my_staff(request)
    appraisal = get_object_or_404(Appraisal.objects.filter(staff=me), pk=pk)
    try:
        reviews.appeal_file(appraisal=appraisal, reason=request.POST.get("reason", ""), actor=request.user)
        messages.success(request, _("Your appeal was filed; HR will decide and tell you by email."))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("appraisal-detail", pk=pk)


def cycle_needing_action(cycles):
    """The cycle a manager has work in: the latest open (or failed) one, else the latest published one."""
    cycles = list(cycles)
    return (
        next((c for c in cycles if c.state in (CycleState.OPEN, CycleState.FAILED)), None)
        or next((c for c in cycles if c.state in PUBLISHED), None)
        or (cycles[0] if cycles else None)
    )


@door("performance.view_team_page")
def team(request):
    data = request.GET.copy()
    if not data.get("cycle"):
        first = cycle_needing_action(AppraisalCycle.objects.order_by("-start")[:12])
        if first:
            data["cycle"] = str(first.pk)
    visible = visible_staff(viewer=request.user)
    base = with_effective(
        Appraisal.objects.filter(staff__in=visible).select_related("staff__team", "template", "cycle")
    )
    f = AppraisalFilter(data, queryset=base)
    results = f.qs.order_by("effective_rank", "staff__employee_no") if not data.get("order") else f.qs
    cycle = f.form.cleaned_data.get("cycle") if f.is_bound and f.form.is_valid() else None
    grades = dict(
        results.order_by().values("effective_grade").annotate(n=Count("id")).values_list("effective_grade", "n")
    )
    page = Paginator(results, 100).get_page(request.GET.get("page"))
    missing, missing_count = kci_missing_page(cycle=cycle, staff=visible) if cycle else ([], 0)
    breaches = (
        Complaint.objects.filter(
            Q(staff__in=visible) | Q(handler__in=visible),
            any_breached_q(timezone.now()),
        )
        .select_related("staff", "handler")
        .order_by("-received_at")[:20]
    )
    disputes = Inspection.objects.filter(ticket__staff__in=visible, status=InspectionStatus.DISPUTED).select_related(
        "ticket__staff"
    )[:20]
    open_appeals = (
        Appraisal.objects.filter(staff__in=visible, appeals__status="open")
        .select_related("staff", "cycle")
        .annotate(appeal_id=F("appeals__id"))[:20]
    )
    return render(
        request,
        "performance/team.html",
        {
            "filter": f,
            "results": page,
            "page": page,
            "cycle": cycle,
            "lock_reason": cycle_lock(cycle) if cycle else None,
            "missing": missing,
            "missing_count": missing_count,
            "query": _without_page(request),
            "grade_chart": bar_chart(
                [(str(grade_label(g)), n) for g, n in sorted(grades.items(), key=lambda kv: kv[0] or "")],
                _("Grade distribution"),
            ),
            "breaches": breaches,
            "disputes": disputes,
            "open_appeals": open_appeals,
        },
    )


@door("performance.rate_kci", obj=("staff_id", Staff))
def kci_form(request, cycle_id, staff_id):
    """A manager rates one member's qualitative items for a cycle: all items saved together or none."""
    cycle = get_object_or_404(AppraisalCycle, pk=cycle_id)
    me = getattr(request.user, "staff", None)
    member = get_object_or_404(visible_staff(viewer=request.user).exclude(pk=me.pk if me else None), pk=staff_id)
    items = kci_items(cycle=cycle).get(member.role)
    if items is None:
        raise Http404
    existing = {k.indicator: k for k in KciRating.objects.filter(cycle=cycle, staff=member)}
    lock_reason = cycle_lock(cycle)
    typed, errors, problems = {}, [], {}
    if request.method == "POST" and not lock_reason:
        ratings = {}
        for item in items:
            raw = request.POST.get(f"rating_{item.code}", "").strip()
            comment = request.POST.get(f"comment_{item.code}", "")
            typed[item.code] = (raw, comment)
            if not raw:
                continue
            try:
                ratings[item.code] = (bounded_decimal(raw, max_digits=6, places=2, low=0), comment)
            except ValueError as exc:
                problems[item.code] = f"{item.name or item.code}: {exc}"
        if not problems:
            try:
                reviews.kci_rate_many(cycle=cycle, staff=member, ratings=ratings, rated_by=me, actor=request.user)
                messages.success(request, _("Ratings saved for %(name)s.") % {"name": member.name})
                return redirect(f"{reverse('team')}?cycle={cycle.pk}")
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    problems = {code: "; ".join(msgs) for code, msgs in exc.message_dict.items()}
                else:
                    errors = exc.messages
        if problems:
            errors = [_("Nothing was saved: correct the ratings marked below.")]
    elif request.method == "POST":
        errors = [lock_reason]
    rows = []
    for i in items:
        before = existing.get(i.code)
        raw, comment = typed.get(
            i.code,
            (
                "" if before is None else format(before.rating.normalize(), "f"),
                "" if before is None else before.comment,
            ),
        )
        rows.append(
            {
                "item": i,
                "value": raw,
                "comment": comment,
                "scale": i.params.get("scale", 5),
                "error": problems.get(i.code),
            }
        )
    return render(
        request,
        "performance/kci_form.html",
        {"cycle": cycle, "member": member, "rows": rows, "errors": errors, "lock_reason": lock_reason},
    )


def _without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def hr_overview(*, cycle) -> dict:
    """What HR reads about one cycle: grades by team and the score histogram (effective results), and
    what needs doing (missing KCI ratings, open appeals, payouts a calibration made stale)."""
    effective = with_effective(Appraisal.objects.filter(cycle=cycle))
    by_team = (
        effective.values("staff__team__name", "effective_grade")
        .annotate(n=Count("id"))
        .order_by("staff__team__name", "effective_grade")
    )
    table = {}
    for row in by_team:
        table.setdefault(row["staff__team__name"], {})[row["effective_grade"]] = row["n"]
    grades = sorted({row["effective_grade"] for row in by_team})
    scores = effective.filter(effective_score__isnull=False).values_list("effective_score", flat=True)
    buckets = Counter(min(9, int(s // 10)) for s in scores)
    return {
        "team_grades": table,
        "grades": grades,
        "histogram": bar_chart(
            [(f"{b * 10}–{b * 10 + 9 if b < 9 else 100}", buckets.get(b, 0)) for b in range(10)],
            _("Score histogram"),
        ),
        "missing_count": kci_missing_page(cycle=cycle, limit=0)[1],
        "open_appeals": Appraisal.objects.filter(cycle=cycle, appeals__status="open").count(),
    }


def cycles_overview(cycles) -> dict:
    """QA pass rate and SLA compliance per cycle, the SLA by the one breach rule at read time."""
    qa_trend, sla_trend = [], []
    now = timezone.now()
    for c in reversed(cycles):
        qa = c.member_metrics.aggregate(
            passed=metric_count_sum("qa_pass_rate", 0), done=metric_count_sum("qa_pass_rate", 1)
        )
        qa_trend.append((c.name, None if not qa["done"] else Decimal(qa["passed"]) / qa["done"] * 100))
        s, e = window_bounds(c.start, c.end)
        comp = Complaint.objects.filter(received_at__gte=s, received_at__lt=e).aggregate(
            n=Count("id"), met=Count("id", filter=met_q(now))
        )
        sla_trend.append((c.name, None if not comp["n"] else Decimal(comp["met"]) / comp["n"] * 100))
    return {
        "trend": line_chart(
            {_("QA pass rate %"): qa_trend, _("SLA compliance %"): sla_trend}, _("QA pass rate and SLA compliance")
        ),
        "sla_compliance": {name: value for name, value in sla_trend},
    }


def hr_context(request) -> dict:
    cycles = list(AppraisalCycle.objects.order_by("-start")[:12])
    cycle = next((c for c in cycles if str(c.pk) == request.GET.get("cycle")), None) or next(
        (c for c in cycles if c.state in PUBLISHED), cycles[0] if cycles else None
    )
    context = {"cycles": cycles, "cycle": cycle}
    if cycle:
        context.update(hr_overview(cycle=cycle))
    context.update(cycles_overview(cycles))
    return context


@door("performance.view_hr_dashboard")
def hr_dashboard(request):
    return render(request, "performance/hr_dashboard.html", hr_context(request))
