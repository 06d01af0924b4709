from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from performance.common.admin import (
    BigTableAdmin,
    HistoryAdmin,
    ImportDoor,
    TabularInline,
    WeightsFormSet,
    admin_door,
)
from performance.common.exporting import table_response

from . import reviews, rules, runs, services
from .definitions import template_to_dict, template_to_yaml, validate_template
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
from .selectors import kci_missing, results_table

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


class ReasonActionForm(admin.helpers.ActionForm):
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
    filter_horizontal = ["templates"]
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
    def close_view(self, request, pk):
        """Confirm, then hand the close to Celery; closing before the end date asks first."""
        cycle = get_object_or_404(AppraisalCycle, pk=pk)
        if request.method == "POST":
            try:
                services.cycle_close(cycle=cycle, actor=request.user)
                self.message_user(request, _("Close of %(name)s handed to the workers.") % {"name": cycle.name})
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            except Exception as exc:  # noqa: BLE001 - in-process close failed; the cycle shows the error
                self.message_user(request, _("The close failed: %(e)s") % {"e": exc}, messages.ERROR)
            return redirect(reverse("admin:performance_appraisalcycle_change", args=[pk]))
        missing = kci_missing(cycle=cycle)
        context = {
            **self.admin_site.each_context(request),
            "cycle": cycle,
            "opts": self.model._meta,
            "early": timezone.localdate() < cycle.end,
            "missing": missing[:50],
            "missing_count": len(missing),
            "title": _("Close %(name)s") % {"name": cycle.name},
        }
        return TemplateResponse(request, "admin/performance/appraisalcycle/close_confirm.html", context)

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
        self._each(request, queryset, services.cycle_close, _("Close of %(name)s handed to the workers."))

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


class IndicatorResultInline(TabularInline):
    model = IndicatorResult
    extra = 0
    can_delete = False
    fields = [
        "section",
        "indicator",
        "metric",
        "raw_value",
        "rule",
        "score",
        "weight",
        "effective_weight",
        "contribution",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class SectionResultInline(IndicatorResultInline):
    model = SectionResult
    fields = ["code", "kind", "weight", "effective_weight", "score"]
    readonly_fields = fields


@admin.register(Appraisal)
class AppraisalAdmin(HistoryAdmin):
    list_display = [
        "staff",
        "cycle",
        "template",
        "final_score",
        "grade",
        "rank",
        "eligible",
        "override_score",
        "override_grade",
        "improvement_plan",
    ]
    list_filter = ["cycle", "grade", "eligible", "improvement_plan", "staff__team", "template__role"]
    search_fields = ["=staff__employee_no", "^staff__name"]
    list_select_related = ["staff", "cycle", "template"]
    readonly_fields = [
        "cycle",
        "staff",
        "template",
        "final_score",
        "grade",
        "rank",
        "eligible",
        "tickets_handled",
        "computed_at",
        "improvement_plan",
    ]
    inlines = [SectionResultInline, IndicatorResultInline]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        """Calibration goes through the service: a reason is required and the change audited."""
        try:
            reviews.appraisal_override(
                appraisal=obj,
                score=obj.override_score,
                grade=obj.override_grade,
                reason=obj.override_reason,
                actor=request.user,
            )
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)


@admin.register(KciRating)
class KciRatingAdmin(ImportDoor, HistoryAdmin):
    import_kind = "kci"
    list_display = ["cycle", "staff", "indicator", "rating", "rated_by", "rated_at"]
    list_filter = ["cycle", "indicator", "staff__team"]
    search_fields = ["=staff__employee_no"]
    list_select_related = ["cycle", "staff", "rated_by"]
    raw_id_fields = ["staff", "rated_by"]


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
    readonly_fields = ["appraisal", "reason", "created_at", "decided_by", "decided_at"]
    fields = ["appraisal", "reason", "created_at", "status", "decision", "decided_by", "decided_at"]

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
