from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from performance.common.admin import BigTableAdmin, HistoryAdmin, ImportDoor, ModelAdmin, TabularInline

from .breach import any_breached_q
from .models import BusinessCalendar, CalendarDay, Complaint, ComplaintPause, SlaPolicy, WorkingPeriod
from .selectors import with_breaches
from .services import complaints_recompute_due


class ComplaintQueue(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("open", pgettext_lazy("complaint queue", "Open")),
            ("at_risk", _("At risk (due within an hour)")),
            ("breached", _("Breached")),
            ("closed", _("Closed")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        soon = now + timezone.timedelta(hours=1)
        open_q = Q(resolved_at__isnull=True) | Q(confirmed_at__isnull=True)
        if self.value() == "open":
            return queryset.filter(open_q)
        if self.value() == "at_risk":
            return queryset.filter(
                (Q(first_response_at__isnull=True, first_response_due__gte=now, first_response_due__lt=soon))
                | Q(resolved_at__isnull=True, resolution_due__gte=now, resolution_due__lt=soon)
            )
        if self.value() == "breached":
            return queryset.filter(any_breached_q(now))
        if self.value() == "closed":
            return queryset.exclude(open_q)
        return queryset


class ComplaintPauseInline(TabularInline):
    model = ComplaintPause
    extra = 0


@admin.register(Complaint)
class ComplaintAdmin(ImportDoor, BigTableAdmin):
    import_kind = "complaints"
    list_display = [
        "external_id",
        "priority",
        "channel",
        "staff",
        "handler",
        "received_at",
        "first_response_due",
        "resolution_due",
        "breach",
        "closed_loop",
    ]
    list_filter = [ComplaintQueue, "priority", "channel", ("received_at", admin.DateFieldListFilter), "handler__team"]
    search_fields = ["=external_id", "=staff__employee_no", "=customer_id"]
    list_select_related = ["staff", "handler"]
    raw_id_fields = ["staff", "handler"]
    readonly_fields = [
        "first_response_due",
        "resolution_due",
        "paused_minutes",
        "first_response_breached_at",
        "resolution_breached_at",
        "first_response_escalated_at",
        "resolution_escalated_at",
    ]
    inlines = [ComplaintPauseInline]
    ordering = ["-received_at"]

    def get_queryset(self, request):
        return with_breaches(super().get_queryset(request), now=timezone.now())

    @admin.display(description=_("SLA breached"), boolean=True, ordering="breached")
    def breach(self, obj):
        return obj.breached

    @admin.display(description=_("closed loop"), boolean=True)
    def closed_loop(self, obj):
        return obj.closed

    def save_related(self, request, form, formsets, change):
        """Due times follow the priority, the policy, the calendar and the pauses."""
        super().save_related(request, form, formsets, change)
        complaints_recompute_due(complaints=Complaint.objects.filter(pk=form.instance.pk))


class WorkingPeriodInline(TabularInline):
    model = WorkingPeriod
    extra = 0


class CalendarDayInline(TabularInline):
    model = CalendarDay
    extra = 0


def _recompute_open_complaints(model_admin, request):
    n = complaints_recompute_due(complaints=Complaint.objects.filter(resolved_at__isnull=True))
    model_admin.message_user(request, _("Due times of %(n)d open complaints recomputed.") % {"n": n})


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(HistoryAdmin):
    list_display = ["name", "time_zone", "is_default"]
    inlines = [WorkingPeriodInline, CalendarDayInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _recompute_open_complaints(self, request)


@admin.register(CalendarDay)
class CalendarDayAdmin(ImportDoor, ModelAdmin):
    """Holidays and make-up days, one by one or imported (the ``holidays`` import kind)."""

    import_kind = "holidays"
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


@admin.register(SlaPolicy)
class SlaPolicyAdmin(HistoryAdmin):
    list_display = ["priority", "first_response_minutes", "resolution_minutes", "clock", "calendar"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        n = complaints_recompute_due(
            complaints=Complaint.objects.filter(priority=obj.priority, resolved_at__isnull=True)
        )
        self.message_user(request, _("Due times of %(n)d open complaints recomputed.") % {"n": n})
