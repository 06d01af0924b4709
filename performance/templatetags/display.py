"""Numbers, money and codes as a person reads them, in the active language (``common.formatting``)."""

from django import template

from performance.common import formatting

register = template.Library()

register.filter("money", formatting.money_display)  # {{ payout.total|money:payout.currency }}
register.filter("percent", formatting.percent_text)  # {{ rate|percent }} (a fraction: 0.8776 → 87.76%)
register.filter("multiplier", formatting.multiplier_display)  # ×1.056
register.filter("score", formatting.score_display)  # 71.20, n/a
register.filter("number", formatting.number_text)  # {{ n|number:0 }} → 12,000
register.filter("grade_label", formatting.grade_label)


@register.filter
def value(value, unit):
    """{{ raw|value:"rate" }}: a metric's raw value by its unit (rate, money, seconds, count, number)."""
    return formatting.value_display(value, unit)
