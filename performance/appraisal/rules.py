"""Scoring rules: how an indicator's raw value becomes a 0–100 score.

Each rule is one class here, registered by name: what its parameters must be (``check``),
how it scores (``scorer``, or ``peer_scores`` when it needs the other members), and how it
reads in words on a staff member's breakdown (``describe``). Templates, the admin, the close
and the pages all ask this registry, so a new rule is one class in this module, its test
and a line in docs/appraisal.md. Everything is exact (``Fraction``).
"""

from bisect import bisect_left, bisect_right
from fractions import Fraction

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from performance.common.money import round_half_up
from performance.common.numbers import bounded_decimal, frac

HUNDRED, ZERO, ONE = Fraction(100), Fraction(0), Fraction(1)
RULES: dict[str, "Rule"] = {}
DIRECTIONS = ("higher", "lower")
PARAM_DIGITS, PARAM_PLACES = 40, 20  # a rule parameter's size: far beyond any real target or band


def register(rule_class):
    RULES[rule_class.name] = rule_class()
    return rule_class


def get(name: str) -> "Rule":
    return RULES[name]


def choices() -> list[tuple[str, str]]:
    """(name, label) of every rule, for a form's select."""
    return [(name, rule.label) for name, rule in RULES.items()]


def rated_rules() -> list[str]:
    """Names of the rules scored from a manager's rating (KCI items) rather than a metric."""
    return [name for name, rule in RULES.items() if rule.source == "rating"]


def check_number(errors, where, value, *, positive=False):
    """The exact number at ``where``, or None after appending why it is not one."""
    if isinstance(value, bool):
        errors.append(f"{where}: {value!r} is not a number")
        return None
    try:
        bounded_decimal(value, max_digits=PARAM_DIGITS, places=PARAM_PLACES)  # before Fraction expands 1e999999999
        number = frac(value)
    except (TypeError, ValueError):
        errors.append(f"{where}: {value!r} is not a number")
        return None
    if positive and number <= 0:
        errors.append(f"{where}: must be greater than 0")
    return number


def _defined(fn):
    """Undefined in, undefined out."""
    return lambda value: None if value is None else fn(value)


def _shown(x) -> str:
    """A rule parameter as people read it: ratios as percentages, other numbers as they are."""
    x = frac(x)
    return f"{round_half_up(x * 100, 2).normalize():f}%" if abs(x) <= 1 else f"{round_half_up(x, 2).normalize():f}"


def _lower(params) -> bool:
    return params.get("direction", "higher") == "lower"


class Rule:
    name = ""
    label = ""
    source = "metric"  # "metric": scores a metric's value; "rating": a manager's rating (KCI)
    needs_peers = False  # scored among the other members of the cycle (see ``peer_scores``)

    def check(self, errors: list, where: str, params: dict) -> None:
        """Append a message naming ``where`` for each problem with the parameters."""

    def scorer(self, params: dict):
        """The rule as a function of one raw value (None stays None), its parameters read once.

        The close scores thousands of members by the same indicator: reading the parameters
        once per indicator, not once per member, is most of the cost of scoring.
        """
        raise NotImplementedError

    def peer_scores(self, values: dict, params: dict) -> dict:
        raise NotImplementedError

    def describe(self, params: dict) -> str:
        raise NotImplementedError


@register
class Linear(Rule):
    """100 × clamp((v − floor) / (target − floor), 0, 1); target < floor means lower is better."""

    name, label = "linear", gettext_lazy("Linear between floor and target")

    def check(self, errors, where, params):
        floor = check_number(errors, f"{where}.floor", params.get("floor"))
        target = check_number(errors, f"{where}.target", params.get("target"))
        if floor is not None and target is not None and floor == target:
            errors.append(f"{where}: floor and target must differ")

    def scorer(self, params):
        floor, target = frac(params["floor"]), frac(params["target"])
        low, high = min(floor, target), max(floor, target)
        scale = HUNDRED / (target - floor)

        def linear(v):
            v = frac(v)
            if v <= low:
                return ZERO if floor == low else HUNDRED
            if v >= high:
                return HUNDRED if target == high else ZERO
            return (v - floor) * scale

        return _defined(linear)

    def describe(self, params):
        return _("linear from %(floor)s (0) to %(target)s (100)") % {
            "floor": _shown(params["floor"]),
            "target": _shown(params["target"]),
        }


@register
class Threshold(Rule):
    """100 if v ≥ target (higher) or v ≤ target (lower), else 0."""

    name, label = "threshold", gettext_lazy("Pass/fail threshold")

    def check(self, errors, where, params):
        check_number(errors, f"{where}.target", params.get("target"))

    def scorer(self, params):
        target = frac(params["target"])
        if _lower(params):
            return _defined(lambda v: HUNDRED if frac(v) <= target else ZERO)
        return _defined(lambda v: HUNDRED if frac(v) >= target else ZERO)

    def describe(self, params):
        if _lower(params):
            return _("100 if at most %(target)s, else 0") % {"target": _shown(params["target"])}
        return _("100 if at least %(target)s, else 0") % {"target": _shown(params["target"])}


@register
class Bands(Rule):
    """higher: the first band, by descending min, with v ≥ min; lower: the first, by ascending bound, with v ≤ bound."""

    name, label = "bands", gettext_lazy("Bands")

    def check(self, errors, where, params):
        bands = params.get("bands")
        if not isinstance(bands, list) or not bands:
            errors.append(f"{where}.bands: a non-empty list of [bound, score] pairs is required")
            return
        bounds = []
        for j, band in enumerate(bands):
            if not isinstance(band, (list, tuple)) or len(band) != 2:
                errors.append(f"{where}.bands[{j}]: must be a [bound, score] pair")
                continue
            bounds.append(check_number(errors, f"{where}.bands[{j}][0]", band[0]))
            score = check_number(errors, f"{where}.bands[{j}][1]", band[1])
            if score is not None and not 0 <= score <= 100:
                errors.append(f"{where}.bands[{j}][1]: a score must lie within 0–100")
        if len(set(bounds)) != len(bounds):
            errors.append(f"{where}.bands: two bands share a bound")

    def scorer(self, params):
        bands = [(frac(b), frac(s)) for b, s in params["bands"]]
        if _lower(params):
            upper = sorted(bands, key=lambda b: b[0])
            return _defined(lambda v: next((score for bound, score in upper if frac(v) <= bound), ZERO))
        lower = sorted(bands, key=lambda b: b[0], reverse=True)
        return _defined(lambda v: next((score for minimum, score in lower if frac(v) >= minimum), ZERO))

    def describe(self, params):
        lower = _lower(params)
        parts = [
            (_("≤ %(b)s → %(s)s") if lower else _("≥ %(b)s → %(s)s")) % {"b": _shown(b), "s": s}
            for b, s in sorted(params["bands"], key=lambda b: frac(b[0]), reverse=not lower)
        ]
        return _("bands: %(bands)s") % {"bands": "; ".join(parts)}


@register
class Ratio(Rule):
    """100 × clamp(v / target, 0, 1): a negative value scores 0 (contract, "Edge rules")."""

    name, label = "ratio", gettext_lazy("Ratio to target")

    def check(self, errors, where, params):
        check_number(errors, f"{where}.target", params.get("target"), positive=True)

    def scorer(self, params):
        target = frac(params["target"])
        return _defined(lambda v: HUNDRED * min(max(frac(v) / target, ZERO), ONE))

    def describe(self, params):
        return _("100 × value / %(target)s, at most 100") % {"target": _shown(params["target"])}


@register
class Rank(Rule):
    """Among the eligible members whose value is defined: 100 × (n − 1 − r) / (n − 1), r = peers strictly better."""

    name, label = "rank", gettext_lazy("Rank among peers")
    needs_peers = True

    def peer_scores(self, values, params):
        defined = {k: frac(v) for k, v in values.items() if v is not None}
        n = len(defined)
        ordered = sorted(defined.values())
        lower = _lower(params)
        result = {}
        for key, v in defined.items():
            better = bisect_left(ordered, v) if lower else n - bisect_right(ordered, v)
            result[key] = HUNDRED if n == 1 else HUNDRED * (n - 1 - better) / (n - 1)
        return result

    def describe(self, params):
        if _lower(params):
            return _("rank among peers, lowest value best")
        return _("rank among peers, highest value best")


@register
class Rating(Rule):
    """100 × rating / scale: a KCI item a manager rates."""

    name, label = "rating", gettext_lazy("Manager rating")
    source = "rating"

    def check(self, errors, where, params):
        check_number(errors, f"{where}.scale", params.get("scale"), positive=True)

    def scorer(self, params):
        scale = frac(params["scale"])
        return _defined(lambda v: HUNDRED * frac(v) / scale)

    def describe(self, params):
        return _("100 × rating / %(scale)s") % {"scale": params["scale"]}

    @staticmethod
    def out_of_scale(rating, params) -> str | None:
        """The one check of a manager's rating against its item's scale: why it is wrong, or None.

        The rating is checked as a number (finite, at most two decimals, KciRating.rating's
        size) before it is compared, so no door can hand ``NaN`` or ``1e999999999`` to the arithmetic.
        """
        try:
            value = bounded_decimal(rating, max_digits=6, places=2)
        except ValueError as exc:
            return str(exc)
        scale = frac(params.get("scale", 5))
        if 0 <= frac(value) <= scale:
            return None
        return _("%(v)s is outside 0–%(s)s") % {"v": rating, "s": params.get("scale", 5)}


def check_indicator(errors: list, where: str, rule: str, params: dict, *, has_metric: bool) -> None:
    """Every problem with one indicator's rule and parameters, each named by its path."""
    if rule not in RULES:
        errors.append(f"{where}.rule: {rule!r} is not one of {', '.join(RULES)}")
        return
    if params.get("direction", "higher") not in DIRECTIONS:
        errors.append(f"{where}.direction: must be higher or lower")
    spec = RULES[rule]
    spec.check(errors, where, params)
    if spec.source == "rating" and has_metric:
        errors.append(f"{where}: a rating indicator takes no metric")
    if spec.source == "metric" and not has_metric:
        errors.append(f"{where}: rule {rule!r} needs a metric")


def score(rule: str, params: dict, value) -> Fraction | None:
    """One value scored by a single-value rule (the close uses ``scorer`` once per indicator)."""
    return RULES[rule].scorer(params)(value)


def describe(rule: str, params: dict) -> str:
    """The rule in words, for the staff member's breakdown."""
    return RULES[rule].describe(params) if rule in RULES else rule
