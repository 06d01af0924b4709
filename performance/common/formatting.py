"""Numbers and values as text: for the contract's export cells and for people.

Every money or number format in the product is one of these functions. The ones for people
(``*_display``, ``percent_text``, ``number_text``) follow the active language with Babel's
locale data (grouping, decimal sign, currency symbol and its place); they round only through
``money`` (half-up, once) and hand Babel a value that needs no further rounding.
"""

import datetime
from decimal import Decimal
from fractions import Fraction

from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .money import round_half_up, round_money

NA = "n/a"
GRADE_LABELS = {
    "excellent": _("Excellent"),
    "good": _("Good"),
    "needs_improvement": _("Needs improvement"),
    "not_rated": _("Not rated"),
}


def grade_label(code) -> str:
    """A template's grade codes are data; the usual ones read as words in the user's language.

    >>> str(grade_label("needs_improvement")), grade_label("A"), grade_label("")
    ('Needs improvement', 'A', '—')
    """
    return GRADE_LABELS.get(code, code or "—")


def exact(value) -> Fraction:
    """A figure as an exact fraction (Decimal, int, str or Fraction; never a float), for one rounding.

    >>> exact(Decimal("0.8776")), exact(Fraction(2, 3)), exact(7)
    (Fraction(1097, 1250), Fraction(2, 3), Fraction(7, 1))
    """
    if isinstance(value, float):
        raise TypeError("floats are not accepted near figures people read")
    return value if isinstance(value, Fraction) else Fraction(Decimal(value))


def babel_locale(language: str | None = None) -> str:
    """The Babel locale of a Django language code: zh-hans → zh_Hans_CN, en → en.

    >>> babel_locale("zh-hans"), babel_locale("en"), babel_locale("en-gb")
    ('zh_Hans_CN', 'en', 'en_GB')
    """
    language = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    if language.startswith("zh"):
        return "zh_Hant_TW" if "hant" in language else "zh_Hans_CN"
    lang, _sep, region = language.partition("-")
    return f"{lang}_{region.upper()}" if region else lang


def number_text(value, places: int | None = None, language: str | None = None) -> str:
    """A number with the locale's grouping: rounded half-up to ``places`` when given, else as stored.

    >>> number_text(Decimal("1234567.5"), language="en"), number_text(Decimal("2.675"), 2, language="zh-hans")
    ('1,234,567.5', '2.68')
    >>> number_text(12000, 0, language="en"), number_text(None)
    ('12,000', 'n/a')
    """
    if value is None or value == "":
        return NA
    if places is not None:
        value = round_half_up(exact(value), places)
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return format_decimal(value, format=pattern, locale=babel_locale(language))
    return format_decimal(Decimal(value).normalize(), locale=babel_locale(language), decimal_quantization=False)


def money_display(value, currency: str | None = None, language: str | None = None) -> str:
    """An amount for people: rounded half-up to the cent, grouped, with its currency, by locale.

    >>> money_display(Decimal("1234567.5"), "CNY", language="en"), money_display(Decimal("-0.125"), "CNY", "zh-hans")
    ('CN¥1,234,567.50', '-¥0.13')
    >>> money_display(None)
    '—'
    """
    if value is None or value == "":
        return "—"
    return format_currency(round_money(exact(value)), currency or settings.CURRENCY, locale=babel_locale(language))


def percent_text(rate, places: int | None = 2, language: str | None = None) -> str:
    """A rate (a fraction, 0.8776) as a percentage rounded half-up to ``places``, no trailing zeros.

    >>> percent_text(Decimal("0.8776"), language="en"), percent_text(Decimal("0.5"), language="zh-hans")
    ('87.76%', '50%')
    >>> percent_text(Decimal("0.123456"), 1, language="en"), percent_text(None)
    ('12.3%', 'n/a')
    """
    if rate is None or rate == "":
        return NA
    if places is None:  # a stored figure in full: exact, nothing rounded
        pct = (Decimal(rate) * 100).normalize()
    else:
        pct = round_half_up(exact(rate) * 100, places).normalize()
    return format_percent(
        pct / 100, format="#,##0.##########%", locale=babel_locale(language), decimal_quantization=False
    )


def multiplier_display(value, language: str | None = None) -> str:
    """A multiplier to what matters: at most 4 decimals (half-up), no trailing zeros, as ×1.056.

    >>> multiplier_display(Decimal("1.05600000"), language="en"), multiplier_display(Decimal("0.80000000"))
    ('×1.056', '×0.8')
    >>> multiplier_display(Decimal("1.00000000")), multiplier_display(Decimal("1.23456789"))
    ('×1', '×1.2346')
    """
    if value is None or value == "":
        return "—"
    shown = round_half_up(exact(value), 4).normalize()
    return "×" + format_decimal(shown, locale=babel_locale(language), decimal_quantization=False)


def seconds_display(value, language: str | None = None) -> str:
    """A duration in seconds as people read it: 45 s, 3 min 30 s, 2 h 5 min.

    >>> seconds_display(Decimal("45.4")), seconds_display(210), seconds_display(7500), seconds_display(None)
    ('45 s', '3 min 30 s', '2 h 5 min', 'n/a')
    """
    if value is None or value == "":
        return NA
    total = int(round_half_up(exact(value), 0))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("%(h)s h %(m)s min") % {"h": number_text(hours, 0, language), "m": minutes}
    if minutes:
        return _("%(m)s min %(s)s s") % {"m": minutes, "s": seconds}
    return _("%(s)s s") % {"s": seconds}


UNITS = ("rate", "money", "seconds", "count", "number")


def value_display(value, unit: str, language: str | None = None) -> str:
    """A metric's raw value by its unit: rates in %, amounts with currency, durations, counts grouped.

    >>> value_display(Decimal("0.8776"), "rate"), value_display(Decimal("1200"), "count", "en")
    ('87.76%', '1,200')
    >>> value_display(Decimal("1234.5"), "money", "en"), value_display(Decimal("210.749620852"), "number", "en")
    ('CN¥1,234.50', '210.749620852')
    >>> value_display(Decimal("0.8469387755"), "rate", "en")
    '84.69387755%'

    """
    if value is None or value == "":
        return NA
    if unit == "rate":  # a stored figure in full; an exact ratio rounded once to 2 places
        return percent_text(value, None if isinstance(value, Decimal) else 2, language)
    if unit == "money":
        return money_display(value, language=language)
    if unit == "seconds":
        return seconds_display(value, language)
    if unit == "count":
        return number_text(value, 0, language)
    if isinstance(value, Fraction):
        return number_text(value, 4, language)  # an exact ratio, rounded once
    return number_text(value, language=language)  # a stored raw value in full, as redone by hand


def score_display(value, language: str | None = None) -> str:
    """A 0–100 score to 2 places (half-up); n/a for none.

    >>> score_display(Decimal("71.2")), score_display(None)
    ('71.20', 'n/a')
    """
    return NA if value is None or value == "" else number_text(value, 2, language)


def money_text(value) -> str:
    """An amount with exactly two places; empty for none.

    >>> money_text(Decimal("12.5")), money_text(None), money_text(Decimal("-0.00"))
    ('12.50', '', '-0.00')
    """
    return "" if value is None else format(round_money(Decimal(value)), "f")


def fixed_text(value, places: int) -> str:
    """A figure with exactly ``places`` decimals, rounded half-up once (by ``money``); empty for none.

    Give it the exact value (a Fraction) or a figure stored at ``places`` already: rounding a
    figure stored at more places is the double rounding the contract forbids.

    >>> from fractions import Fraction
    >>> fixed_text(Decimal("21.07"), 2), fixed_text(Fraction(1, 8), 2), fixed_text(None, 4)
    ('21.07', '0.13', '')
    """
    return "" if value in (None, "") else format(round_half_up(value, places), "f")


def megabytes_text(size_bytes) -> str:
    """A size in megabytes (MiB) to two places, half-up once, without trailing zeros: 0.08, 1.5, 100.

    >>> megabytes_text(80_000), megabytes_text(1_572_864), megabytes_text(100 * 1024 * 1024)
    ('0.08', '1.5', '100')
    """
    return decimal_text(round_half_up(Fraction(int(size_bytes), 1024 * 1024), 2))


def normalized(value: Decimal | None) -> Decimal | None:
    """A stored value without trailing zeros, still a number (XLSX keeps it numeric).

    >>> normalized(Decimal("0.8400000000")), normalized(Decimal("5.0000000000")), normalized(None)
    (Decimal('0.84'), Decimal('5'), None)
    """
    if value is None:
        return None
    value = value.normalize()
    return Decimal(int(value)) if value == value.to_integral() else value  # 5E+1 → 50: exact, no rounding


def decimal_text(value) -> str:
    """A stored rate, factor or raw value without trailing zeros: 0.10000000 → 0.1, 80.0000 → 80.

    >>> decimal_text(Decimal("0.10000000")), decimal_text(Decimal("80.0000")), decimal_text(None)
    ('0.1', '80', '')
    """
    if value in (None, ""):
        return ""
    return format(Decimal(value).normalize(), "f")


def multiplier_text(value) -> str:
    """A payout multiplier as the contract exports it: no trailing zeros, at least one decimal.

    >>> multiplier_text(Decimal("1.00000000")), multiplier_text(Decimal("0.64000000"))
    ('1.0', '0.64')
    """
    text = decimal_text(value)
    return text if "." in text else text + ".0"


def cell(value):
    """A value in the contract's file formats: ISO 8601 times in TIME_ZONE, true/false, empty for n/a."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value
