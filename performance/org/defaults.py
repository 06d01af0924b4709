"""The groups a new database starts with, and their Django permissions."""

from django.contrib.auth.management import create_permissions

GROUP_PERMISSIONS = {
    "HR": {
        "performance": "*",
        "commission": ["view_commissionplan", "view_planversion", "view_payout"],
    },
    "Finance": {
        "commission": "*",
        "performance": ["view_staff", "view_team", "view_appraisalcycle", "view_appraisal", "view_order"],
    },
    "Manager": {
        "performance": [
            "view_staff",
            "view_team",
            "view_appraisal",
            "view_appraisalcycle",
            "view_kcirating",
            "add_kcirating",
            "change_kcirating",
            "view_complaint",
            "view_ticket",
        ],
    },
    "QA": {
        "performance": [
            "view_ticket",
            "view_inspection",
            "change_inspection",
            "view_scorecard",
            "view_staff",
        ],
    },
    "Staff": {},
}


def install_groups(apps) -> None:
    """Idempotent: every app's permissions exist, then each group has its own."""
    for app_config in apps.get_app_configs():
        loaded = getattr(app_config, "models_module", None)
        if loaded is None:  # historical apps in a migration: create_permissions skips them otherwise
            app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = loaded
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, by_app in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codenames in by_app.items():
            perms = Permission.objects.filter(content_type__app_label=app_label)
            if codenames != "*":
                perms = perms.filter(codename__in=codenames)
            group.permissions.add(*perms)
