from django import template

from performance.common.formatting import decimal_text, fixed_text, grade_label

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


register.filter("grade_label", grade_label)
register.filter("plain_number", decimal_text)  # a rate or factor without trailing zeros: 0.10000000 → 0.1


@register.filter
def fixed(value, places):
    """A computed figure at ``places`` decimals, rounded half-up once: ``{{ score|fixed:2 }}``.

    Templates use this (and ``plain_number`` for stored inputs), never Django's ``floatformat``:
    the one rounding is ``performance/common/money.py``'s (tests/common/test_one_rounding.py).
    """
    return fixed_text(value, int(places))
