from django import template
from django.utils.translation import gettext_lazy as _

from performance.common.formatting import decimal_text, fixed_text

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


GRADE_LABELS = {
    "excellent": _("Excellent"),
    "good": _("Good"),
    "needs_improvement": _("Needs improvement"),
    "not_rated": _("Not rated"),
}


@register.filter
def grade_label(code):
    """A template's grade codes are data; the usual ones read as words in the user's language."""
    return GRADE_LABELS.get(code, code or "—")


register.filter("plain_number", decimal_text)  # a rate or factor without trailing zeros: 0.10000000 → 0.1


@register.filter
def fixed(value, places):
    """A computed figure at ``places`` decimals, rounded half-up once: ``{{ score|fixed:2 }}``.

    Templates use this (and ``plain_number`` for stored inputs), never Django's ``floatformat``:
    the one rounding is ``performance/common/money.py``'s (tests/common/test_one_rounding.py).
    """
    return fixed_text(value, int(places))
