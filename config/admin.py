"""Logins and groups in the admin: superusers only, asked of the permission matrix like every door.

A role is a group (HR, Finance, Manager, QA, Staff); what a role may do is the matrix
(config/policy.py), so the admin shows no per-user or per-group permission rows to edit:
they would not be consulted.
"""

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


admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.register(User, LoginAdmin)
admin.site.register(Group, RoleAdmin)
