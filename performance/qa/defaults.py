"""The default QA scorecard a new database starts with."""

SCORECARD_ITEMS = [
    ("speed", "Response speed", 25, False),
    ("accuracy", "Resolution accuracy", 35, True),
    ("attitude", "Attitude and language", 20, False),
    ("sop", "Process (SOP) compliance", 20, False),
]


def install_scorecard(apps) -> None:
    """Idempotent: the standard rubric, version 1."""
    Scorecard = apps.get_model("performance", "Scorecard")
    Item = apps.get_model("performance", "ScorecardItem")
    card, created = Scorecard.objects.get_or_create(
        code="default", version=1, defaults={"name": "Standard QA rubric", "pass_mark": 80}
    )
    if created:
        Item.objects.bulk_create(
            Item(scorecard=card, code=c, name=n, weight=w, critical=crit, position=i)
            for i, (c, n, w, crit) in enumerate(SCORECARD_ITEMS)
        )
