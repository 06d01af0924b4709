from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .admin_tools import EstimatedCountPaginator
from .definitions import template_to_dict, template_to_yaml, validate_template
from .models import (
    Appeal,
    AppealStatus,
    Appraisal,
    AppraisalCycle,
    AppraisalTemplate,
    BusinessCalendar,
    CalendarDay,
    CalibrationRound,
    Complaint,
    ComplaintPause,
    CycleState,
    Indicator,
    IndicatorResult,
    Inspection,
    KciRating,
    Order,
    Scorecard,
    ScorecardItem,
    Section,
    SectionResult,
    SlaPolicy,
    Staff,
    Team,
    Ticket,
    WorkingPeriod,
)
from .resources import CalendarDayResource, ComplaintResource, OrderResource, StaffResource, TicketResource

admin.site.site_header = _("Service staff appraisal")
admin.site.site_title = _("Appraisal admin")
admin.site.index_title = _("HR and finance")


class AllOrNothingImport(ImportExportMixin):
    """Imports roll back entirely when any row fails validation (the default commits the good rows)."""

    def get_import_data_kwargs(self, **kwargs):
        data = super().get_import_data_kwargs(**kwargs)
        data["rollback_on_validation_errors"] = True
        return data


class BigTableAdmin(admin.ModelAdmin):
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "member_count"]
    search_fields = ["name"]
    list_select_related = ["parent"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n=Count("members"))

    @admin.display(description=_("members"), ordering="n")
    def member_count(self, obj):
        return obj.n


class MoveTeamForm(admin.helpers.ActionForm):
    team = forms.ModelChoiceField(Team.objects.all(), required=False, label=_("team"))


@admin.register(Staff)
class StaffAdmin(AllOrNothingImport, SimpleHistoryAdmin):
    resource_classes = [StaffResource]
    list_display = ["employee_no", "name", "team", "role", "manager", "active", "hired_on"]
    list_filter = ["role", "active", "team"]
    search_fields = ["=employee_no", "^name", "^email"]
    list_select_related = ["team", "manager"]
    autocomplete_fields = ["manager", "user"]
    action_form = MoveTeamForm
    actions = ["activate", "deactivate", "move_team"]

    @admin.action(description=_("Activate selected staff"))
    def activate(self, request, queryset):
        self._bulk(request, queryset, active=True)

    @admin.action(description=_("Deactivate selected staff"))
    def deactivate(self, request, queryset):
        self._bulk(request, queryset, active=False)

    @admin.action(description=_("Move selected staff to the chosen team"))
    def move_team(self, request, queryset):
        team = Team.objects.filter(pk=request.POST.get("team")).first()
        if team is None:
            self.message_user(request, _("Choose a team first."), messages.ERROR)
            return
        self._bulk(request, queryset, team=team)

    def _bulk(self, request, queryset, **values):
        from simple_history.utils import bulk_update_with_history

        members = list(queryset)
        for m in members:
            for k, v in values.items():
                setattr(m, k, v)
        bulk_update_with_history(members, Staff, list(values), default_user=request.user)
        self.message_user(request, _("%(n)d staff updated.") % {"n": len(members)})


@admin.register(Ticket)
class TicketAdmin(AllOrNothingImport, BigTableAdmin):
    resource_classes = [TicketResource]
    list_display = ["external_id", "staff", "kind", "channel", "created_at", "first_response_at", "resolved_at",
                    "rating", "reopened"]
    list_filter = [("created_at", admin.DateFieldListFilter), "channel", "kind", "staff__team", "rating"]
    search_fields = ["=external_id", "=staff__employee_no", "=customer_id"]
    list_select_related = ["staff"]
    raw_id_fields = ["staff"]
    ordering = ["-created_at"]


@admin.register(Order)
class OrderAdmin(AllOrNothingImport, BigTableAdmin):
    resource_classes = [OrderResource]
    list_display = ["external_id", "staff", "customer_id", "product_category", "amount", "paid_at",
                    "refunded_amount", "is_renewal"]
    list_filter = [("paid_at", admin.DateFieldListFilter), "product_category", "is_renewal", "staff__team"]
    search_fields = ["=external_id", "=staff__employee_no", "=customer_id"]
    list_select_related = ["staff"]
    raw_id_fields = ["staff", "ticket"]
    ordering = ["-paid_at"]


class ComplaintQueue(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("at_risk", _("At risk (due within an hour)")), ("breached", _("Breached")),
                ("closed", _("Closed"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        soon = now + timezone.timedelta(hours=1)
        open_q = Q(resolved_at__isnull=True) | Q(confirmed_at__isnull=True)
        if self.value() == "open":
            return queryset.filter(open_q)
        if self.value() == "at_risk":
            return queryset.filter(
                (Q(first_response_at__isnull=True, first_response_due__gte=now, first_response_due__lt=soon))
                | Q(resolved_at__isnull=True, resolution_due__gte=now, resolution_due__lt=soon))
        if self.value() == "breached":
            return queryset.filter(Q(first_response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False))
        if self.value() == "closed":
            return queryset.exclude(open_q)
        return queryset


class ComplaintPauseInline(admin.TabularInline):
    model = ComplaintPause
    extra = 0


@admin.register(Complaint)
class ComplaintAdmin(AllOrNothingImport, BigTableAdmin):
    resource_classes = [ComplaintResource]
    list_display = ["external_id", "priority", "channel", "staff", "handler", "received_at", "first_response_due",
                    "resolution_due", "breach", "closed_loop"]
    list_filter = [ComplaintQueue, "priority", "channel", ("received_at", admin.DateFieldListFilter), "handler__team"]
    search_fields = ["=external_id", "=staff__employee_no", "=customer_id"]
    list_select_related = ["staff", "handler"]
    raw_id_fields = ["staff", "handler"]
    readonly_fields = ["first_response_due", "resolution_due", "paused_minutes", "first_response_breached_at",
                       "resolution_breached_at", "first_response_escalated_at", "resolution_escalated_at"]
    inlines = [ComplaintPauseInline]
    ordering = ["-received_at"]

    @admin.display(description=_("breached"), boolean=True)
    def breach(self, obj):
        return bool(obj.first_response_breached_at or obj.resolution_breached_at)

    @admin.display(description=_("closed loop"), boolean=True)
    def closed_loop(self, obj):
        return obj.closed

    def save_related(self, request, form, formsets, change):
        """Due times follow the priority, the policy, the calendar and the pauses."""
        super().save_related(request, form, formsets, change)
        from .complaints import complaints_recompute_due

        complaints_recompute_due(Complaint.objects.filter(pk=form.instance.pk))


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    extra = 0


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(SimpleHistoryAdmin):
    list_display = ["name", "time_zone", "is_default"]
    inlines = [WorkingPeriodInline, CalendarDayInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _recompute_open_complaints(self, request)


@admin.register(CalendarDay)
class CalendarDayAdmin(AllOrNothingImport, admin.ModelAdmin):
    """Holidays and make-up days, one by one or imported from CSV/XLSX (calendar, date, working, name)."""

    resource_classes = [CalendarDayResource]
    list_display = ["date", "calendar", "working", "name"]
    list_filter = ["calendar", "working"]
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _recompute_open_complaints(self, request)

    def process_result(self, result, request):
        response = super().process_result(result, request)
        _recompute_open_complaints(self, request)
        return response


def _recompute_open_complaints(model_admin, request):
    from .complaints import complaints_recompute_due

    n = complaints_recompute_due(Complaint.objects.filter(resolved_at__isnull=True))
    model_admin.message_user(request, _("Due times of %(n)d open complaints recomputed.") % {"n": n})


@admin.register(SlaPolicy)
class SlaPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["priority", "first_response_minutes", "resolution_minutes", "clock", "calendar"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from .complaints import complaints_recompute_due

        n = complaints_recompute_due(Complaint.objects.filter(priority=obj.priority, resolved_at__isnull=True))
        self.message_user(request, _("Due times of %(n)d open complaints recomputed.") % {"n": n})


# --- templates -------------------------------------------------------------------------


class WeightsFormSet(forms.BaseInlineFormSet):
    """Weights of one level must sum to 100."""

    def clean(self):
        super().clean()
        weights = [f.cleaned_data.get("weight") for f in self.forms
                   if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if weights and all(w is not None for w in weights) and sum(weights) != 100:
            raise ValidationError(_("Weights sum to %(total)s, not 100.") % {"total": sum(weights)})


class SectionInline(admin.TabularInline):
    model = Section
    formset = WeightsFormSet
    extra = 0
    show_change_link = True


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        fields = ["section", "code", "name", "metric", "weight", "rule", "params", "position"]

    def clean(self):
        data = super().clean()
        from .definitions import validate_rule

        errors = []
        validate_rule(errors, data.get("code", ""), data.get("rule"), data.get("params") or {},
                      has_metric=bool(data.get("metric")))
        if errors:
            raise ValidationError(errors)
        return data


class IndicatorInline(admin.TabularInline):
    model = Indicator
    form = IndicatorForm
    formset = WeightsFormSet
    extra = 0


class TemplateInUse:
    """A template used by a closed cycle is read-only: save it as a new version instead."""

    def has_change_permission(self, request, obj=None):
        template = getattr(obj, "template", obj)
        if isinstance(obj, Section):
            template = obj.template
        if template is not None and template.cycles.exclude(state__in=[CycleState.DRAFT, CycleState.OPEN]).exists():
            return False
        return super().has_change_permission(request, obj)


@admin.register(AppraisalTemplate)
class AppraisalTemplateAdmin(TemplateInUse, SimpleHistoryAdmin):
    list_display = ["code", "version", "name", "role", "grading_method", "min_tickets", "active"]
    list_filter = ["role", "active"]
    search_fields = ["^code", "name"]
    inlines = [SectionInline]
    save_as = True
    actions = ["download_yaml"]

    @admin.action(description=_("Download as YAML"))
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
            self.message_user(request, _("This template is not complete yet: %(e)s") % {"e": "; ".join(exc.messages)},
                              messages.WARNING)


@admin.register(Section)
class SectionAdmin(TemplateInUse, SimpleHistoryAdmin):
    list_display = ["template", "code", "kind", "weight"]
    inlines = [IndicatorInline]
    list_select_related = ["template"]


# --- cycles ------------------------------------------------------------------------------


class ReasonActionForm(admin.helpers.ActionForm):
    reason = forms.CharField(required=False, label=_("reason (reopening)"))


@admin.register(AppraisalCycle)
class AppraisalCycleAdmin(SimpleHistoryAdmin):
    action_form = ReasonActionForm
    list_display = ["name", "start", "end", "state", "progress", "closed_at"]
    list_filter = ["state"]
    search_fields = ["name"]
    filter_horizontal = ["templates"]
    readonly_fields = ["state", "progress_done", "progress_total", "close_run", "error", "closing_started_at",
                       "closed_at", "finalized_at"]
    actions = ["close_cycles", "finalize_cycles", "reopen_cycles"]
    change_form_template = "admin/performance/appraisalcycle/change_form.html"

    @admin.display(description=_("progress"))
    def progress(self, obj):
        if obj.state == CycleState.FAILED:
            return format_html('<span title="{}">{}</span>', obj.error, _("failed"))
        if obj.progress_total:
            return f"{obj.progress_done} / {obj.progress_total}"
        return "-"

    def get_urls(self):
        return [
            path("<int:pk>/close/", self.admin_site.admin_view(self.close_view), name="performance_cycle_close"),
            path("<int:pk>/results.<str:fmt>", self.admin_site.admin_view(self.results_view),
                 name="performance_cycle_results"),
            path("<int:pk>/progress/", self.admin_site.admin_view(self.progress_view),
                 name="performance_cycle_progress"),
        ] + super().get_urls()

    def close_view(self, request, pk):
        """Confirm, then hand the close to Celery; closing before the end date asks first."""
        cycle = AppraisalCycle.objects.get(pk=pk)
        if not self.has_change_permission(request, cycle):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if request.method == "POST":
            try:
                services.cycle_close(cycle=cycle, actor=request.user)
                self.message_user(request, _("Close of %(name)s handed to the workers.") % {"name": cycle.name})
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            except Exception as exc:  # noqa: BLE001 - in-process close failed; the cycle shows the error
                self.message_user(request, _("The close failed: %(e)s") % {"e": exc}, messages.ERROR)
            return redirect(reverse("admin:performance_appraisalcycle_change", args=[pk]))
        missing = services.kci_missing(cycle)
        context = {
            **self.admin_site.each_context(request), "cycle": cycle, "opts": self.model._meta,
            "early": timezone.localdate() < cycle.end, "missing": missing[:50], "missing_count": len(missing),
            "title": _("Close %(name)s") % {"name": cycle.name},
        }
        return TemplateResponse(request, "admin/performance/appraisalcycle/close_confirm.html", context)

    def progress_view(self, request, pk):
        from django.http import JsonResponse

        c = AppraisalCycle.objects.get(pk=pk)
        return JsonResponse({"state": c.state, "state_label": c.get_state_display(), "done": c.progress_done,
                             "total": c.progress_total, "error": c.error})

    def results_view(self, request, pk, fmt):
        import tempfile

        from .exporting import write_table
        from .selectors import results_table

        cycle = AppraisalCycle.objects.get(pk=pk)
        fmt = "xlsx" if fmt == "xlsx" else "csv"
        header, rows = results_table(cycle)
        with tempfile.NamedTemporaryFile(suffix=f".{fmt}") as tmp:
            write_table(tmp.name, header, rows, fmt)
            with open(tmp.name, "rb") as fh:
                body = fh.read()
        ctype = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
                 else "text/csv; charset=utf-8")
        response = HttpResponse(body, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="results-{cycle.name}.{fmt}"'
        return response

    def _each(self, request, cycles, service, done, **kwargs):
        """Run a cycle service on each selected cycle; report each outcome, refusals as errors."""
        for cycle in cycles:
            try:
                service(cycle=cycle, actor=request.user, **kwargs)
                self.message_user(request, done % {"name": cycle.name})
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)

    @admin.action(description=_("Close selected cycles (compute scores and payouts)"))
    def close_cycles(self, request, queryset):
        self._each(request, queryset, services.cycle_close, _("Close of %(name)s handed to the workers."))

    @admin.action(description=_("Finalize selected cycles (lock them)"))
    def finalize_cycles(self, request, queryset):
        self._each(request, queryset, services.cycle_finalize, _("%(name)s finalized and locked."))

    @admin.action(description=_("Reopen selected finalized cycles (superuser, give a reason)"))
    def reopen_cycles(self, request, queryset):
        self._each(request, queryset.filter(state=CycleState.FINALIZED), services.cycle_reopen,
                   _("%(name)s reopened for review."), reason=request.POST.get("reason", ""))

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.state in (CycleState.DRAFT, CycleState.OPEN)


class IndicatorResultInline(admin.TabularInline):
    model = IndicatorResult
    extra = 0
    can_delete = False
    fields = ["section", "indicator", "metric", "raw_value", "rule", "score", "weight", "effective_weight",
              "contribution"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class SectionResultInline(IndicatorResultInline):
    model = SectionResult
    fields = ["code", "kind", "weight", "effective_weight", "score"]
    readonly_fields = fields


@admin.register(Appraisal)
class AppraisalAdmin(SimpleHistoryAdmin):
    list_display = ["staff", "cycle", "template", "final_score", "grade", "rank", "eligible", "override_score",
                    "override_grade", "improvement_plan"]
    list_filter = ["cycle", "grade", "eligible", "improvement_plan", "staff__team", "template__role"]
    search_fields = ["=staff__employee_no", "^staff__name"]
    list_select_related = ["staff", "cycle", "template"]
    readonly_fields = ["cycle", "staff", "template", "final_score", "grade", "rank", "eligible", "tickets_handled",
                       "computed_at", "improvement_plan"]
    inlines = [SectionResultInline, IndicatorResultInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.cycle.locked:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        """Calibration goes through the service: a reason is required and the change audited."""
        try:
            services.appraisal_override(appraisal=obj, score=obj.override_score, grade=obj.override_grade,
                                        reason=obj.override_reason, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)


@admin.register(KciRating)
class KciRatingAdmin(SimpleHistoryAdmin):
    list_display = ["cycle", "staff", "indicator", "rating", "rated_by", "rated_at"]
    list_filter = ["cycle", "indicator", "staff__team"]
    search_fields = ["=staff__employee_no"]
    list_select_related = ["cycle", "staff", "rated_by"]
    raw_id_fields = ["staff", "rated_by"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.cycle.locked:
            return False
        return super().has_change_permission(request, obj)


@admin.register(Appeal)
class AppealAdmin(SimpleHistoryAdmin):
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
            services.appeal_decide(appeal=original, upheld=status == AppealStatus.UPHELD, decision=obj.decision,
                                   actor=request.user)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)


# --- QA --------------------------------------------------------------------------------


class ScorecardItemInline(admin.TabularInline):
    model = ScorecardItem
    formset = WeightsFormSet
    extra = 0


@admin.register(Scorecard)
class ScorecardAdmin(SimpleHistoryAdmin):
    list_display = ["code", "version", "name", "pass_mark", "active"]
    inlines = [ScorecardItemInline]
    save_as = True


@admin.register(CalibrationRound)
class CalibrationRoundAdmin(admin.ModelAdmin):
    list_display = ["name", "scorecard", "created_at", "open"]
    raw_id_fields = ["tickets"]
    list_filter = ["open"]


@admin.register(Inspection)
class InspectionAdmin(BigTableAdmin, SimpleHistoryAdmin):
    list_display = ["ticket", "agent", "inspector", "status", "score", "passed", "pooled", "sampled_at"]
    list_filter = ["status", "passed", "pooled", ("window_start", admin.DateFieldListFilter), "ticket__staff__team"]
    search_fields = ["=ticket__external_id", "=ticket__staff__employee_no"]
    list_select_related = ["ticket__staff", "inspector"]
    raw_id_fields = ["ticket", "inspector", "reviewer"]

    @admin.display(description=_("agent"))
    def agent(self, obj):
        return obj.ticket.staff
