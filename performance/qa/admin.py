from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from performance.common.admin import BigTableAdmin, HistoryAdmin, ModelAdmin, TabularInline, WeightsFormSet

from .models import CalibrationRound, Inspection, Scorecard, ScorecardItem


class ScorecardItemInline(TabularInline):
    model = ScorecardItem
    formset = WeightsFormSet
    extra = 0


@admin.register(Scorecard)
class ScorecardAdmin(HistoryAdmin):
    list_display = ["code", "version", "name", "pass_mark", "active"]
    inlines = [ScorecardItemInline]
    save_as = True


@admin.register(CalibrationRound)
class CalibrationRoundAdmin(ModelAdmin):
    list_display = ["name", "scorecard", "created_at", "open"]
    raw_id_fields = ["tickets"]
    list_filter = ["open"]


@admin.register(Inspection)
class InspectionAdmin(BigTableAdmin, HistoryAdmin):
    list_display = ["ticket", "agent", "inspector", "status", "score", "passed", "pooled", "sampled_at"]
    list_filter = ["status", "passed", "pooled", ("window_start", admin.DateFieldListFilter), "ticket__staff__team"]
    search_fields = ["=ticket__external_id", "=ticket__staff__employee_no"]
    list_select_related = ["ticket__staff", "inspector"]
    raw_id_fields = ["ticket", "inspector", "reviewer"]

    @admin.display(description=_("agent"))
    def agent(self, obj):
        return obj.ticket.staff
