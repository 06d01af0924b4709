from django import template

from performance.common.formatting import decimal_text, grade_label

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


register.filter("grade_label", grade_label)
register.filter("plain_number", decimal_text)  # a rate or factor without trailing zeros: 0.10000000 → 0.1
