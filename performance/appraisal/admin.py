from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from performance.common.admin import (
    ActionForm,
    BigTableAdmin,
    HistoryAdmin,
    ImportDoor,
    TabularInline,
    WeightsFormSet,
    admin_door,
)
from performance.common.exporting import table_response
from performance.common.formatting import (
    GRADE_LABELS,
    grade_label,
    number_text,
    percent_text,
    score_display,
    value_display,
)

from . import reviews, rules, runs, services
from .definitions import template_to_dict, template_to_yaml, validate_template
from .locks import cycle_lock
from .metrics import unit_of
from .models import (
    Appeal,
    AppealStatus,
    Appraisal,
    AppraisalCycle,
    AppraisalTemplate,
    CycleState,
    Indicator,
    IndicatorResult,
    KciRating,
    MetricSource,
    MetricValue,
    Section,
    SectionResult,
)
from .selectors import kci_missing_page, results_table, template_grades, with_effective

admin.site.site_header = _("Service staff appraisal")
admin.site.site_title = _("Appraisal admin")
admin.site.index_title = _("HR and finance")


class SectionInline(TabularInline):
    model = Section
    formset = WeightsFormSet
    extra = 0
    show_change_link = True


class IndicatorForm(forms.ModelForm):
    rule = forms.ChoiceField(label=_("scoring rule"), choices=rules.choices)

    class Meta:
        model = Indicator
        fields = ["section", "code", "name", "metric", "weight", "rule", "params", "position"]

    def clean(self):
        data = super().clean()
        errors = []
        rules.check_indicator(
            errors,
            data.get("code", ""),
            data.get("rule"),
            data.get("params") or {},
            has_metric=bool(data.get("metric")),
        )
        if errors:
            raise ValidationError(errors)
        return data


class IndicatorInline(TabularInline):
    model = Indicator
    form = IndicatorForm
    formset = WeightsFormSet
    extra = 0


@admin.register(AppraisalTemplate)
class AppraisalTemplateAdmin(HistoryAdmin):
    """A template used by a closed cycle is read-only (a row lock): "Save as new" makes the next version."""

    list_display = ["code", "version", "name", "role", "grading_method", "min_tickets", "active"]
    list_filter = ["role", "active"]
    search_fields = ["^code", "name"]
    inlines = [SectionInline]
    save_as = True
    actions = ["download_yaml"]

    @admin.action(description=_("Download as YAML"), permissions=["view"])
    def download_yaml(self, request, queryset):
        body = "---\n".join(template_to_yaml(t) for t in queryset.prefetch_related("sections__indicators"))
        response = HttpResponse(body, content_type="application/x-yaml; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="templates.yaml"'
        return response

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        template = form.instance
        try:
            validate_template(template_to_dict(template))
        except ValidationError as exc:
            self.message_user(
                request,
                _("This template is not complete yet: %(e)s") % {"e": "; ".join(exc.messages)},
                messages.WARNING,
            )


@admin.register(Section)
class SectionAdmin(HistoryAdmin):
    list_display = ["template", "code", "kind", "weight"]
    inlines = [IndicatorInline]
    list_select_related = ["template"]


# --- cycles ------------------------------------------------------------------------------


class ReasonActionForm(ActionForm):
    reason = forms.CharField(required=False, label=_("reason (reopening)"))


class CycleAddForm(forms.ModelForm):
    """A new cycle is made by ``cycle_create``, as ``create_cycle`` makes it: the same checks and messages,
    the same commission plans pinned (every active plan, through the commission app's hook)."""

    class Meta:
        model = AppraisalCycle
        fields = ["name", "start", "end", "templates", "appeal_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["templates"].queryset = AppraisalTemplate.objects.filter(active=True)
        self.fields["templates"].required = False
        self.fields["templates"].help_text = _("None chosen: every active template, as create_cycle does.")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data.get("name"),
            "start": data.get("start"),
            "end": data.get("end"),
            "templates": sorted({t.code for t in data.get("templates") or []}) or None,
            "appeal_days": data.get("appeal_days"),
        }

    def clean(self):
        """Run the service in a savepoint that is rolled back: its refusals become this form's errors."""
        data = super().clean()
        if self.errors:
            return data
        try:
            with transaction.atomic():
                services.cycle_create(**self.service_kwargs(), actor=None)
                transaction.set_rollback(True)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return data


@admin.register(AppraisalCycle)
class AppraisalCycleAdmin(HistoryAdmin):
    action_form = ReasonActionForm
    list_display = ["name", "start", "end", "state", "progress", "closed_at"]
    list_filter = ["state"]
    search_fields = ["name"]
    readonly_fields = [
        "state",
        "progress_done",
        "progress_total",
        "close_run",
        "error",
        "closing_started_at",
        "progress_at",
        "closed_at",
        "finalized_at",
    ]
    actions = ["close_cycles", "retry_closes", "finalize_cycles", "reopen_cycles"]
    change_form_template = "admin/performance/appraisalcycle/change_form.html"

    def has_close_permission(self, request):
        return self.allows(request, "close")

    def has_finalize_permission(self, request):
        return self.allows(request, "finalize")

    def has_reopen_permission(self, request):
        return self.allows(request, "reopen")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = CycleAddForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        """Adding goes through ``cycle_create`` (plans pinned, audited); editing is an audited save."""
        if change:
            return super().save_model(request, obj, form, change)
        cycle = services.cycle_create(**form.service_kwargs(), actor=request.user)
        obj.pk, obj.state, obj.appeal_days = cycle.pk, cycle.state, cycle.appeal_days
        obj._state.adding, obj._state.db = False, cycle._state.db
        templates = ", ".join(str(t) for t in cycle.templates.order_by("code")) or "-"
        self.message_user(
            request,
            _("Cycle %(name)s is open over [%(start)s, %(end)s) with templates: %(templates)s.")
            % {"name": cycle.name, "start": cycle.start, "end": cycle.end, "templates": templates},
        )

    def save_related(self, request, form, formsets, change):
        if change:  # a new cycle's templates were set by cycle_create
            super().save_related(request, form, formsets, change)

    @admin.display(description=_("progress"))
    def progress(self, obj):
        if obj.state == CycleState.FAILED:
            return format_html('<span title="{}">{}</span>', obj.error, _("failed"))
        if obj.state == CycleState.CLOSING:
            since = runs.last_progress(obj)
            stalled = runs.stalled_for(obj)
            text = _("%(done)s / %(total)s, last progress %(ago)s ago") % {
                "done": obj.progress_done,
                "total": obj.progress_total,
                "ago": timesince(since) if since else "-",
            }
            if stalled is not None:
                return format_html('<strong class="stalled">{}</strong> · {}', _("stalled"), text)
            return text
        if obj.progress_total:
            return f"{obj.progress_done} / {obj.progress_total}"
        return "-"

    def get_urls(self):
        return [
            path("close/", self.admin_site.admin_view(self.close_view), name="performance_cycles_close"),
            path("<int:pk>/close/", self.admin_site.admin_view(self.close_view), name="performance_cycle_close"),
            path(
                "<int:pk>/results.<str:fmt>",
                self.admin_site.admin_view(self.results_view),
                name="performance_cycle_results",
            ),
            path(
                "<int:pk>/progress/", self.admin_site.admin_view(self.progress_view), name="performance_cycle_progress"
            ),
        ] + super().get_urls()

    @admin_door("close")
    def close_view(self, request, pk=None):
        """The one confirmation page for every way to close (change page, list action, HR dashboard):
        the cycles, what is missing, whether they have ended; on yes, close each and say what happened."""
        raw = request.POST.get("ids") or request.GET.get("ids") or (str(pk) if pk else "")
        ids = [int(x) for x in raw.split(",") if x.strip().isdigit()]
        cycles = list(AppraisalCycle.objects.filter(pk__in=ids).order_by("start"))
        if not cycles:
            self.message_user(request, _("Choose the cycles to close in the list first."), messages.WARNING)
            return redirect("admin:performance_appraisalcycle_changelist")
        if not all(self.allows(request, "close", c) for c in cycles):
            raise PermissionDenied
        back = (
            reverse("admin:performance_appraisalcycle_change", args=[cycles[0].pk])
            if len(cycles) == 1
            else reverse("admin:performance_appraisalcycle_changelist")
        )
        if request.method == "POST":
            for cycle in cycles:
                self._close_one(request, cycle)
            return redirect(back)
        rows = []
        for cycle in cycles:
            missing, missing_count = kci_missing_page(cycle=cycle, limit=50)
            rows.append(
                {
                    "cycle": cycle,
                    "early": timezone.localdate() < cycle.end,
                    "missing": missing,
                    "missing_count": missing_count,
                    "refusal": cycle_lock(cycle)
                    or (_("It is closing now; wait for it to finish.") if cycle.state == CycleState.CLOSING else ""),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "rows": rows,
            "ids": ",".join(str(c.pk) for c in cycles),
            "opts": self.model._meta,
            "cancel_url": back,
            "title": ngettext("Close %(names)s", "Close %(n)d cycles: %(names)s", len(cycles))
            % {"n": len(cycles), "names": ", ".join(c.name for c in cycles)},
        }
        return TemplateResponse(request, "admin/performance/appraisalcycle/close_confirm.html", context)

    def _close_one(self, request, cycle):
        """Close one cycle and answer with one honest message: closed (no broker: it ran here) with its
        result, handed to the workers (progress shows on its page), or why it was refused or failed."""
        try:
            # no broker: the close runs here and now, so the answer can be its result
            cycle = services.cycle_close(cycle=cycle, actor=request.user, inline=settings.CELERY_TASK_ALWAYS_EAGER)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return
        except Exception as exc:  # noqa: BLE001 - in-process close failed; the cycle shows the error
            self.message_user(
                request, _("The close of %(name)s failed: %(e)s") % {"name": cycle.name, "e": exc}, messages.ERROR
            )
            return
        cycle.refresh_from_db()
        if cycle.state == CycleState.CLOSING:
            self.message_user(
                request,
                _("Close of %(name)s handed to the workers: its page shows the progress live.") % {"name": cycle.name},
            )
        elif cycle.state == CycleState.FAILED:
            self.message_user(
                request,
                _("The close of %(name)s failed: %(e)s") % {"name": cycle.name, "e": cycle.error},
                messages.ERROR,
            )
        else:
            self.message_user(
                request,
                _("%(name)s closed: %(n)d members scored; results and payouts are ready for review.")
                % {"name": cycle.name, "n": cycle.progress_total},
                messages.SUCCESS,
            )

    @admin_door("view")
    def progress_view(self, request, pk):
        c = get_object_or_404(AppraisalCycle, pk=pk)
        return JsonResponse(
            {
                "state": c.state,
                "state_label": c.get_state_display(),
                "done": c.progress_done,
                "total": c.progress_total,
                "error": c.error,
            }
        )

    @admin_door("view")
    def results_view(self, request, pk, fmt):
        cycle = get_object_or_404(AppraisalCycle, pk=pk)
        fmt = "xlsx" if fmt == "xlsx" else "csv"
        header, rows = results_table(cycle=cycle)
        return table_response(f"results-{cycle.name}", header, rows, fmt, sheet=_("Results"))

    def _each(self, request, cycles, service, done, **kwargs):
        """Run a cycle service on each selected cycle; report each outcome, refusals as errors."""
        for cycle in cycles:
            try:
                service(cycle=cycle, actor=request.user, **kwargs)
                self.message_user(request, done % {"name": cycle.name})
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description=_("Close selected cycles (compute scores and payouts)"), permissions=["close"])
    def close_cycles(self, request, queryset):
        """The same confirmation page as the change page's button: nothing closes before "yes"."""
        ids = ",".join(str(pk) for pk in queryset.order_by("start").values_list("pk", flat=True))
        return redirect(f"{reverse('admin:performance_cycles_close')}?ids={ids}")

    @admin.action(description=_("Retry selected closes that failed or stalled"), permissions=["retry_close"])
    def retry_closes(self, request, queryset):
        self._each(request, queryset, services.cycle_close, _("Close of %(name)s started again."), retry=True)

    def has_retry_close_permission(self, request):
        return self.allows(request, "retry_close")

    @admin.action(description=_("Finalize selected cycles (lock them)"), permissions=["finalize"])
    def finalize_cycles(self, request, queryset):
        self._each(request, queryset, services.cycle_finalize, _("%(name)s finalized and locked."))

    @admin.action(description=_("Reopen selected finalized cycles (superuser, give a reason)"), permissions=["reopen"])
    def reopen_cycles(self, request, queryset):
        self._each(
            request,
            queryset.filter(state=CycleState.FINALIZED),
            services.cycle_reopen,
            _("%(name)s reopened for review."),
            reason=request.POST.get("reason", ""),
        )


class ResultInline(TabularInline):
    """A closed appraisal's result rows, read only: weight, score and share of the final score."""

    extra = 0
    can_delete = False
    hide_title = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("weight"))
    def weight_shown(self, obj):
        return f"{number_text(obj.weight)}%"

    @admin.display(description=_("score"))
    def score_shown(self, obj):
        return score_display(obj.score)

    @admin.display(description=_("share of final"))
    def share(self, obj):
        return "—" if obj.effective_weight is None else percent_text(obj.effective_weight)


class IndicatorResultInline(ResultInline):
    model = IndicatorResult
    fields = [
        "section_shown",
        "name_shown",
        "raw_shown",
        "rule_shown",
        "score_shown",
        "weight_shown",
        "share",
        "contribution_shown",
    ]
    readonly_fields = fields

    @admin.display(description=_("section"))
    def section_shown(self, obj):
        return obj.section.upper()

    @admin.display(description=_("contribution"))
    def contribution_shown(self, obj):
        return "—" if obj.contribution is None else number_text(obj.contribution, 4)

    @admin.display(description=_("indicator"))
    def name_shown(self, obj):
        return obj.name or obj.indicator

    @admin.display(description=_("raw value"))
    def raw_shown(self, obj):
        unit = "number" if rules.get(obj.rule).source == "rating" else unit_of(obj.metric)
        return value_display(obj.raw_value, unit)

    @admin.display(description=_("scoring rule"))
    def rule_shown(self, obj):
        return rules.describe(obj.rule, obj.params)


class SectionResultInline(ResultInline):
    model = SectionResult
    fields = ["kind", "weight_shown", "share", "score_shown"]
    readonly_fields = fields


class EffectiveGradeFilter(admin.SimpleListFilter):
    """By the grade that counts (calibrated where calibrated), in words."""

    title = _("grade")
    parameter_name = "grade"

    def lookups(self, request, model_admin):
        return list(GRADE_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(effective_grade=self.value()) if self.value() else queryset


class CalibrationForm(forms.ModelForm):
    """HR's calibration: a score and/or a grade chosen from the member's template, and a reason.

    The service's own checks run in ``clean``, so a refused calibration shows its errors beside
    the fields and the admin never also says it was saved.
    """

    override_grade = forms.ChoiceField(label=_("calibrated grade"), required=False)

    class Meta:
        model = Appraisal
        fields = ["override_score", "override_grade", "override_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— keep the computed grade —"))]
        if self.instance.pk:
            choices += [(g, grade_label(g)) for g in template_grades(self.instance.template)]
        self.fields["override_grade"].choices = choices

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            lock = cycle_lock(self.instance.cycle)
            if lock:
                raise ValidationError(lock)
            problems = reviews.appraisal_override_problems(
                appraisal=self.instance,
                score=data.get("override_score"),
                grade=data.get("override_grade") or "",
                reason=data.get("override_reason") or "",
            )
            for field, message in problems.items():
                self.add_error(field, message)
        return data


@admin.register(Appraisal)
class AppraisalAdmin(HistoryAdmin):
    form = CalibrationForm
    list_display = [
        "staff",
        "cycle",
        "template_name",
        "score_shown",
        "grade_shown",
        "rank_shown",
        "eligible",
        "calibrated_flag",
        "improvement_plan",
    ]
    list_filter = ["cycle", EffectiveGradeFilter, "eligible", "improvement_plan", "staff__team", "template__role"]
    search_fields = ["=staff__employee_no", "^staff__name"]
    list_select_related = ["staff", "cycle", "template"]
    readonly_fields = [
        "cycle",
        "staff",
        "template",
        "final_score",
        "computed_grade",
        "rank",
        "calibrated_rank",
        "eligible",
        "tickets_handled",
        "computed_at",
        "improvement_plan",
    ]
    fieldsets = [
        (None, {"fields": ["cycle", "staff", "template", "eligible", "tickets_handled", "computed_at"]}),
        (_("Computed result"), {"fields": ["final_score", "computed_grade", "rank", "improvement_plan"]}),
        (_("Calibration"), {"fields": ["override_score", "override_grade", "override_reason", "calibrated_rank"]}),
    ]
    inlines = [SectionResultInline, IndicatorResultInline]
    show_full_result_count = False

    def get_queryset(self, request):
        return with_effective(super().get_queryset(request))

    @admin.display(description=_("template"), ordering="template__name")
    def template_name(self, obj):
        return obj.template.name

    @admin.display(description=_("score"), ordering="effective_score")
    def score_shown(self, obj):
        return score_display(obj.effective_score)

    @admin.display(description=_("grade"), ordering="effective_grade")
    def grade_shown(self, obj):
        return grade_label(obj.effective_grade)

    @admin.display(description=_("rank"), ordering="effective_rank")
    def rank_shown(self, obj):
        return obj.effective_rank or "—"

    @admin.display(description=_("calibrated"), boolean=True)
    def calibrated_flag(self, obj):
        return obj.calibrated

    @admin.display(description=_("computed grade"))
    def computed_grade(self, obj):
        return grade_label(obj.grade)

    def save_model(self, request, obj, form, change):
        """Calibration goes through the service (the form ran its checks already): audited, ranks and payouts follow."""
        reviews.appraisal_override(
            appraisal=obj,
            score=form.cleaned_data.get("override_score"),
            grade=form.cleaned_data.get("override_grade") or "",
            reason=form.cleaned_data.get("override_reason") or "",
            actor=request.user,
        )


@admin.register(KciRating)
class KciRatingAdmin(ImportDoor, HistoryAdmin):
    import_kind = "kci"
    list_display = ["cycle", "staff", "item", "rating", "rated_by", "rated_at"]
    list_filter = ["cycle", "indicator", "staff__team"]
    search_fields = ["=staff__employee_no"]
    list_select_related = ["cycle", "staff", "rated_by"]
    raw_id_fields = ["staff", "rated_by"]

    def get_queryset(self, request):
        names = Indicator.objects.filter(
            code=OuterRef("indicator"),
            section__template__cycles=OuterRef("cycle"),
            section__template__role=OuterRef("staff__role"),
        ).values("name")[:1]
        return super().get_queryset(request).annotate(item_name=Subquery(names))

    @admin.display(description=_("item"), ordering="indicator")
    def item(self, obj):
        return obj.item_name or obj.indicator


@admin.register(MetricValue)
class MetricValueAdmin(ImportDoor, BigTableAdmin):
    """Values of metrics computed outside (e.g. a content operator's plays), imported per cycle."""

    import_kind = "metrics"
    list_display = ["cycle", "staff", "metric", "value", "source"]
    list_filter = ["cycle", "metric", "source"]
    search_fields = ["=staff__employee_no", "=metric"]
    list_select_related = ["cycle", "staff"]
    raw_id_fields = ["staff"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(source=MetricSource.IMPORTED)


@admin.register(Appeal)
class AppealAdmin(HistoryAdmin):
    list_display = ["appraisal", "status", "created_at", "decided_by", "decided_at"]
    list_filter = ["status", "appraisal__cycle"]
    list_select_related = ["appraisal__staff", "appraisal__cycle", "decided_by"]
    readonly_fields = ["appraisal", "result", "breakdown", "reason", "created_at", "decided_by", "decided_at"]
    fields = [
        "appraisal",
        "result",
        "breakdown",
        "reason",
        "created_at",
        "status",
        "decision",
        "decided_by",
        "decided_at",
    ]

    @admin.display(description=_("result"))
    def result(self, obj):
        a = with_effective(Appraisal.objects.filter(pk=obj.appraisal_id)).get()
        return format_html(
            "{} · {} · {} {}",
            score_display(a.effective_score),
            grade_label(a.effective_grade),
            _("rank"),
            a.effective_rank or "—",
        )

    @admin.display(description=_("how the score was computed"))
    def breakdown(self, obj):
        """The member's breakdown beside the decision: every raw value, rule, score, weight and contribution."""
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}%</td><td class="num">{}</td></tr>',
            (
                (
                    i.section.upper(),
                    i.name or i.indicator,
                    value_display(i.raw_value, "number" if rules.get(i.rule).source == "rating" else unit_of(i.metric)),
                    score_display(i.score),
                    number_text(i.weight),
                    "—" if i.contribution is None else number_text(i.contribution, 4),
                )
                for i in obj.appraisal.indicators.order_by("position")
            ),
        )
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("Section"),
            _("Indicator"),
            _("Raw value"),
            _("Score"),
            _("Weight"),
            _("Contribution"),
        )
        return format_html('<div class="admin-breakdown"><table>{}{}</table></div>', head, rows)

    def save_model(self, request, obj, form, change):
        status = obj.status
        if status == AppealStatus.OPEN:
            return super().save_model(request, obj, form, change)
        original = Appeal.objects.get(pk=obj.pk)
        try:
            reviews.appeal_decide(
                appeal=original, upheld=status == AppealStatus.UPHELD, decision=obj.decision, actor=request.user
            )
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
