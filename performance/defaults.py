"""What a new database starts with: groups and their permissions, the contract's SLA
defaults, a standard business calendar and the default QA scorecard."""

import datetime

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
            "view_staff", "view_team", "view_appraisal", "view_appraisalcycle",
            "view_kcirating", "add_kcirating", "change_kcirating", "view_complaint", "view_ticket",
        ],
    },
    "QA": {
        "performance": [
            "view_ticket", "view_inspection", "change_inspection", "view_scorecard", "view_staff",
        ],
    },
    "Staff": {},
}

SLA_DEFAULTS = [
    ("urgent", 2 * 60, 8 * 60, "working"),
    ("high", 4 * 60, 24 * 60, "working"),
    ("normal", 24 * 60, 72 * 60, "calendar"),
    ("low", 24 * 60, 120 * 60, "calendar"),
]

SCORECARD_ITEMS = [
    ("speed", "Response speed", 25, False),
    ("accuracy", "Resolution accuracy", 35, True),
    ("attitude", "Attitude and language", 20, False),
    ("sop", "Process (SOP) compliance", 20, False),
]


def install_defaults(apps):
    """Idempotent: safe on a new database, after a test flush, and again."""
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

    Calendar = apps.get_model("performance", "BusinessCalendar")
    Period = apps.get_model("performance", "WorkingPeriod")
    from django.conf import settings

    calendar, _ = Calendar.objects.get_or_create(
        name="Standard", defaults={"is_default": True, "time_zone": settings.TIME_ZONE}
    )
    if not calendar.periods.exists():
        Period.objects.bulk_create(
            Period(calendar=calendar, weekday=d, start=datetime.time(9), end=datetime.time(18))
            for d in range(5)
        )
    Policy = apps.get_model("performance", "SlaPolicy")
    for priority, first, resolve, clock in SLA_DEFAULTS:
        Policy.objects.get_or_create(
            priority=priority,
            defaults={"first_response_minutes": first, "resolution_minutes": resolve, "clock": clock, "calendar": calendar},
        )
    Scorecard = apps.get_model("performance", "Scorecard")
    Item = apps.get_model("performance", "ScorecardItem")
    card, created = Scorecard.objects.get_or_create(code="default", version=1, defaults={"name": "Standard QA rubric", "pass_mark": 80})
    if created:
        Item.objects.bulk_create(
            Item(scorecard=card, code=c, name=n, weight=w, critical=crit, position=i)
            for i, (c, n, w, crit) in enumerate(SCORECARD_ITEMS)
        )
