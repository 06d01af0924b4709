from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from performance.common.admin import ActionForm, HistoryAdmin, ImportDoor

from . import services
from .models import Staff, Team


@admin.register(Team)
class TeamAdmin(HistoryAdmin):
    list_display = ["name", "parent", "member_count"]
    search_fields = ["name"]
    list_select_related = ["parent"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n=Count("members"))

    @admin.display(description=_("members"), ordering="n")
    def member_count(self, obj):
        return obj.n


class MoveTeamForm(ActionForm):
    team = forms.ModelChoiceField(Team.objects.all(), required=False, label=_("team"))


@admin.register(Staff)
class StaffAdmin(ImportDoor, HistoryAdmin):
    import_kind = "staff"
    list_display = ["employee_no", "name", "team", "role", "manager", "active", "hired_on"]
    list_filter = ["role", "active", "team"]
    search_fields = ["=employee_no", "^name", "^email"]
    list_select_related = ["team", "manager"]
    autocomplete_fields = ["manager", "user"]
    action_form = MoveTeamForm
    actions = ["activate", "deactivate", "move_team", "unlock_logins"]

    def save_model(self, request, obj, form, change):
        """Through the service: audited, and the member's login follows (active, role groups)."""
        services.staff_save(staff=obj, actor=request.user)

    @admin.action(description=_("Activate selected staff"), permissions=["change"])
    def activate(self, request, queryset):
        self._update(request, queryset, active=True)

    @admin.action(description=_("Deactivate selected staff"), permissions=["change"])
    def deactivate(self, request, queryset):
        self._update(request, queryset, active=False)

    @admin.action(description=_("Move selected staff to the chosen team"), permissions=["change"])
    def move_team(self, request, queryset):
        team = Team.objects.filter(pk=request.POST.get("team")).first()
        if team is None:
            self.message_user(request, _("Choose a team first."), messages.ERROR)
            return
        self._update(request, queryset, team=team)

    def has_unlock_permission(self, request):
        return self.allows(request, "unlock")

    @admin.action(
        description=_("Unlock the logins of selected staff (after too many failed attempts)"), permissions=["unlock"]
    )
    def unlock_logins(self, request, queryset):
        n = services.logins_unlock(staff=queryset, actor=request.user)
        self.message_user(request, _("%(n)d logins unlocked.") % {"n": n})

    def _update(self, request, queryset, **values):
        n = services.staff_update_many(staff=queryset, actor=request.user, **values)
        self.message_user(request, _("%(n)d staff updated.") % {"n": n})
