"""Logins, groups and login attempts in the admin, asked of the permission matrix like every door.

A role is a group (HR, Finance, Manager, QA, Staff); what a role may do is the matrix
(config/policy.py), so the admin shows no per-user or per-group permission rows to edit:
they would not be consulted.
"""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.utils.translation import gettext_lazy as _

from performance.common.admin import PolicyAdmin, admin_door


class LoginAdmin(PolicyAdmin, UserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Roles"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    filter_horizontal = ("groups",)

    @admin_door("change")
    def user_change_password(self, request, id, form_url=""):
        return super().user_change_password(request, id, form_url)


class RoleAdmin(PolicyAdmin, GroupAdmin):
    fields = ["name"]
    filter_horizontal = ()


class LoginAttemptAdmin(PolicyAdmin, AccessAttemptAdmin):
    """django-axes' failed logins (a locked-out login is lifted by deleting its attempts)."""

    def has_cleanup_permission(self, request):
        return self.allows(request, "delete")

    @admin.action(description=_("Clean up expired attempts"), permissions=["cleanup"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


class LoginLogAdmin(PolicyAdmin, AccessLogAdmin):
    pass


class LoginFailureLogAdmin(PolicyAdmin, AccessFailureLogAdmin):
    pass


for model, model_admin in (
    (User, LoginAdmin),
    (Group, RoleAdmin),
    (AccessAttempt, LoginAttemptAdmin),
    (AccessLog, LoginLogAdmin),
    (AccessFailureLog, LoginFailureLogAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
