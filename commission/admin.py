from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from unfold.contrib.import_export.forms import ExportForm

from performance.common.admin import ActionForm, ExportDoor, HistoryAdmin, TabularInline, admin_door
from performance.common.exporting import CONTENT_TYPES, EXPORT_FORMATS
from performance.common.formatting import money_display, multiplier_display, percent_text
from performance.common.money import round_money
from performance.models import AppraisalCycle

from . import statements, workflow
from .definitions import number_errors, version_to_yaml
from .models import (
    CommissionPlan,
    CycleBudget,
    ExportBatch,
    LineKind,
    Payout,
    PayoutLine,
    PayoutStatus,
    PlanRate,
    PlanVersion,
    StatementQuery,
)
from .resources import PayoutResource


class PlanVersionInline(TabularInline):
    model = PlanVersion
    extra = 0
    fields = ["version", "effective_from", "period", "roles", "default_rate", "cap"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CommissionPlan)
class CommissionPlanAdmin(HistoryAdmin):
    list_display = ["code", "name", "active"]
    inlines = [PlanVersionInline]


class PlanRateInline(TabularInline):
    model = PlanRate
    extra = 0


class PlanVersionForm(forms.ModelForm):
    class Meta:
        model = PlanVersion
        fields = [
            "plan",
            "version",
            "effective_from",
            "roles",
            "period",
            "rate_min",
            "rate_max",
            "default_rate",
            "high_value_min_amount",
            "high_value_extra_rate",
            "modifiers",
            "tiers",
            "quota",
            "pk_bonus",
            "clawback_days",
            "cap",
        ]

    def clean(self):
        data = super().clean()
        if not isinstance(data.get("modifiers") or {}, dict) or not isinstance(data.get("tiers") or [], list):
            raise ValidationError(_("Modifiers are a mapping and tiers a list."))
        errors = number_errors(modifiers=data.get("modifiers"), tiers=data.get("tiers"))
        if errors:
            raise ValidationError(errors)
        return data


class RatesWithinBounds(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        lo, hi = self.instance.rate_min, self.instance.rate_max
        for form in self.forms:
            rate = form.cleaned_data.get("rate") if form.cleaned_data else None
            if rate is not None and not form.cleaned_data.get("DELETE") and not lo <= rate <= hi:
                raise ValidationError(
                    _("Rate %(rate)s for %(cat)s lies outside %(lo)s–%(hi)s.")
                    % {"rate": rate, "cat": form.cleaned_data.get("category"), "lo": lo, "hi": hi}
                )


class BoundedRateInline(PlanRateInline):
    formset = RatesWithinBounds


@admin.register(PlanVersion)
class PlanVersionAdmin(HistoryAdmin):
    form = PlanVersionForm
    list_display = ["plan", "version", "effective_from", "period", "default_rate", "cap"]
    list_filter = ["plan", "period"]
    inlines = [BoundedRateInline]
    save_as = True
    actions = ["download_yaml"]

    @admin.action(description=_("Download as YAML"), permissions=["view"])
    def download_yaml(self, request, queryset):
        body = "---\n".join(version_to_yaml(v) for v in queryset.select_related("plan").prefetch_related("rates"))
        response = HttpResponse(body, content_type="application/x-yaml; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="plans.yaml"'
        return response


class PayoutLineInline(TabularInline):
    model = PayoutLine
    extra = 0
    can_delete = False
    fields = ["kind", "label", "source_cycle", "base_shown", "rate_shown", "amount_shown"]
    readonly_fields = fields

    @admin.display(description=_("base"))
    def base_shown(self, obj):
        return "" if obj.base is None else money_display(obj.base, obj.payout.currency)

    @admin.display(description=_("rate / factor"))
    def rate_shown(self, obj):
        if obj.rate is None:
            return ""
        return multiplier_display(obj.rate) if obj.kind == LineKind.MODIFIER else percent_text(obj.rate)

    @admin.display(description=_("amount"))
    def amount_shown(self, obj):
        return "" if obj.amount is None else money_display(obj.amount, obj.payout.currency)

    def has_add_permission(self, request, obj=None):
        return False


class PayoutActionForm(ActionForm):
    reason = forms.CharField(required=False, label=_("reason (hold, unlock)"))


@admin.register(Payout)
class PayoutAdmin(ExportDoor, HistoryAdmin):
    resource_classes = [PayoutResource]
    export_form_class = ExportForm
    export_formats = EXPORT_FORMATS  # the one table writer: formula-safe, typed numbers, totals row
    list_display = [
        "staff",
        "cycle",
        "gross_shown",
        "multiplier_shown",
        "commission_shown",
        "clawback_shown",
        "total_shown",
        "status",
        "recompute_flag",
    ]  # fits 1366 px beside the sidebar; the plan and carried balance are on the payout's page
    list_filter = ["cycle", "status", "recompute_needed", "plan", "staff__team"]
    search_fields = ["=staff__employee_no", "^staff__name"]
    list_select_related = ["staff", "cycle", "plan"]
    readonly_fields = [
        "cycle",
        "staff",
        "plan",
        "plan_version",
        "gross",
        "multiplier",
        "uncapped",
        "commission",
        "clawback",
        "adjustments",
        "carried_balance",
        "total",
        "carry_forward",
        "currency",
        "status",
        "hold_reason",
        "computed_at",
        "approved_by",
        "approved_at",
        "paid_at",
    ]
    inlines = [PayoutLineInline]
    action_form = PayoutActionForm
    actions = ["approve", "hold", "unlock", "payroll_xlsx", "payroll_csv", "mark_paid"]
    show_full_result_count = False
    change_list_template = "admin/commission/payout/change_list.html"

    def has_approve_permission(self, request):
        return self.allows(request, "approve")

    def has_hold_permission(self, request):
        return self.allows(request, "hold")

    def has_unlock_permission(self, request):
        return self.allows(request, "unlock")

    def has_pay_permission(self, request):
        return self.allows(request, "pay")

    def has_payroll_permission(self, request):
        return self.allows(request, "payroll")

    @admin.display(description=_("to recompute"), ordering="recompute_needed")
    def recompute_flag(self, obj):
        """Only the payouts a calibration made stale say anything here."""
        return _("close the cycle again") if obj.recompute_needed else ""

    @admin.display(description=_("gross"), ordering="gross")
    def gross_shown(self, obj):
        return money_display(obj.gross, obj.currency)

    @admin.display(description=_("multiplier"), ordering="multiplier")
    def multiplier_shown(self, obj):
        return multiplier_display(obj.multiplier)

    @admin.display(description=_("commission"), ordering="commission")
    def commission_shown(self, obj):
        return money_display(obj.commission, obj.currency)

    @admin.display(description=_("clawback"), ordering="clawback")
    def clawback_shown(self, obj):
        return money_display(obj.clawback, obj.currency)

    @admin.display(description=_("total"), ordering="total")
    def total_shown(self, obj):
        return money_display(obj.total, obj.currency)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        try:
            qs = response.context_data["cl"].queryset
        except (AttributeError, KeyError):
            return response
        sums = qs.aggregate(
            gross=Sum("gross"), commission=Sum("commission"), clawback=Sum("clawback"), total=Sum("total")
        )
        response.context_data["totals"] = {k: round_money(v or 0) for k, v in sums.items()}
        cycle_id = request.GET.get("cycle__id__exact", "")
        if cycle_id.isdigit() and len(cycle_id) < 19:  # a bad filter value links nowhere instead of failing
            response.context_data["budget_cycle"] = int(cycle_id)
        return response

    def _run(self, request, fn, **kwargs):
        try:
            result = fn(actor=request.user, **kwargs)
        except (ValidationError, PermissionDenied) as exc:
            messages_ = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            self.message_user(request, "; ".join(messages_), messages.ERROR)
            return None
        self.message_user(request, _("%(n)d payouts updated.") % {"n": getattr(result, "moved", result)})
        return result

    @admin.action(description=_("Approve selected payouts"), permissions=["approve"])
    def approve(self, request, queryset):
        result = self._run(request, workflow.payouts_approve, payouts=list(queryset))
        if result is not None and result.held:
            self.message_user(
                request,
                _("%(n)d payouts on hold stay on hold: %(who)s.")
                % {"n": len(result.held), "who": ", ".join(p.staff.employee_no for p in result.held)},
                messages.WARNING,
            )

    @admin.action(description=_("Put selected payouts on hold (give a reason)"), permissions=["hold"])
    def hold(self, request, queryset):
        self._run(request, workflow.payouts_hold, payouts=list(queryset), reason=request.POST.get("reason", ""))

    @admin.action(description=_("Unlock selected payouts for recomputing (give a reason)"), permissions=["unlock"])
    def unlock(self, request, queryset):
        self._run(request, workflow.payouts_unlock, payouts=list(queryset), reason=request.POST.get("reason", ""))

    @admin.action(description=_("Mark selected payouts paid"), permissions=["pay"])
    def mark_paid(self, request, queryset):
        self._run(request, workflow.payouts_mark_paid, payouts=list(queryset))

    @admin.action(description=_("Payroll export (XLSX): approved payouts, marked exported"), permissions=["payroll"])
    def payroll_xlsx(self, request, queryset):
        return self._payroll(request, queryset, "xlsx")

    @admin.action(description=_("Payroll export (CSV): approved payouts, marked exported"), permissions=["payroll"])
    def payroll_csv(self, request, queryset):
        return self._payroll(request, queryset, "csv")

    def _payroll(self, request, queryset, fmt):
        """The selected approved payouts, exported once (``workflow.payroll_export``); one cycle at a time."""
        cycles = set(queryset.filter(status=PayoutStatus.APPROVED).values_list("cycle", flat=True).distinct())
        if not cycles:
            self.message_user(request, _("No approved payouts among the selected ones."), messages.WARNING)
            return None
        if len(cycles) != 1:
            self.message_user(request, _("Export one cycle at a time."), messages.ERROR)
            return None
        cycle = AppraisalCycle.objects.get(pk=cycles.pop())
        try:
            batch, content = workflow.payroll_export(
                cycle=cycle, actor=request.user, file_format=fmt, payouts=list(queryset)
            )
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, "; ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            return None
        if batch is None:
            self.message_user(request, _("Nothing left to export: these payouts were exported already."))
            return None
        return _download(batch)


@admin.register(CycleBudget)
class CycleBudgetAdmin(HistoryAdmin):
    list_display = ["cycle", "amount", "note", "check_link"]
    list_select_related = ["cycle"]

    @admin.display(description=_("budget check"))
    def check_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("budget", args=[obj.cycle_id]), _("open"))


class StatementQueryForm(forms.ModelForm):
    adjustment = forms.DecimalField(
        label=_("adjustment to add (optional)"), required=False, max_digits=14, decimal_places=2
    )

    class Meta:
        model = StatementQuery
        fields = ["answer"]

    def clean(self):
        """The service's refusals, beside the fields: the typed answer stays on the page."""
        data = super().clean()
        if not (data.get("answer") or "").strip():
            self.add_error("answer", _("Write an answer."))
        payout = self.instance.payout if self.instance.pk else None
        if data.get("adjustment") and payout is not None and payout.locked:
            self.add_error(
                "adjustment",
                _(
                    "This payout is %(status)s: an adjustment can only be added before approval. Unlock it first, "
                    "or send the answer without an adjustment."
                )
                % {"status": payout.get_status_display()},
            )
        return data


@admin.register(StatementQuery)
class StatementQueryAdmin(HistoryAdmin):
    form = StatementQueryForm
    list_display = ["payout", "status", "asked_at", "answered_by"]
    list_filter = ["status", "payout__cycle"]
    list_select_related = ["payout__staff", "payout__cycle", "payout__plan", "answered_by"]
    readonly_fields = ["payout", "line", "question", "asked_at", "status", "answered_by", "answered_at"]
    fields = ["payout", "line", "question", "asked_at", "answer", "adjustment", "status", "answered_by", "answered_at"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if self.has_change_permission(request, obj) else [f for f in fields if f != "adjustment"]

    def save_model(self, request, obj, form, change):
        """The form ran the service's checks; the service answers (and adjusts) in one transaction."""
        statements.statement_query_answer(
            query=obj,
            answer=form.cleaned_data["answer"],
            actor=request.user,
            adjustment=form.cleaned_data.get("adjustment"),
        )


def _download(batch) -> HttpResponse:
    response = HttpResponse(bytes(batch.content), content_type=CONTENT_TYPES[batch.file_format])
    response["Content-Disposition"] = content_disposition_header(True, batch.file_name)
    return response


@admin.register(ExportBatch)
class ExportBatchAdmin(HistoryAdmin):
    """Payroll batches: permanent; each can be downloaded again, the same bytes as the first time."""

    list_display = [
        "pk",
        "cycle",
        "exported_by",
        "exported_at",
        "file_format",
        "payout_count",
        "total",
        "checksum",
        "download_link",
    ]
    list_select_related = ["cycle", "exported_by"]
    readonly_fields = [
        "cycle",
        "exported_by",
        "exported_at",
        "file_name",
        "file_format",
        "payout_count",
        "total",
        "checksum",
    ]
    exclude = ["payouts"]

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="commission_exportbatch_download",
            ),
        ] + super().get_urls()

    @admin_door("download")
    def download_view(self, request, pk):
        return _download(ExportBatch.objects.get(pk=pk))

    @admin.display(description=_("file"))
    def download_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:commission_exportbatch_download", args=[obj.pk]), _("download")
        )
