"""Everything a close writes, as sorted text lines: to compare a close before and after a change.

Every appraisal, section and indicator result, member metric row, payout and statement line
of a cycle, keyed by what a person knows them by (employee_no, codes, order external_id),
never by database ids or timestamps. ``tests/test_golden_exports.py`` pins it on the demo
company; ``bench/close_bench.py --results`` compares it on the benchmark data.
"""

import hashlib
import json

from commission.models import Payout, PayoutLine
from performance.models import Appraisal, IndicatorResult, MemberMetrics, SectionResult


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _lines(kind: str, rows) -> list[str]:
    return sorted(kind + "|" + "|".join(_text(v) for v in row) for row in rows)


def close_snapshot(cycle) -> list[str]:
    """Sorted lines, one per row the close of ``cycle`` wrote (appraisals, results, metrics, payouts, lines)."""
    lines = []
    lines += _lines(
        "appraisal",
        Appraisal.objects.filter(cycle=cycle).values_list(
            "staff__employee_no",
            "template__code",
            "template__version",
            "final_score",
            "grade",
            "rank",
            "eligible",
            "tickets_handled",
            "improvement_plan",
            "override_score",
            "override_grade",
        ),
    )
    lines += _lines(
        "section",
        SectionResult.objects.filter(appraisal__cycle=cycle).values_list(
            "appraisal__staff__employee_no", "code", "kind", "weight", "position", "effective_weight", "score"
        ),
    )
    lines += _lines(
        "indicator",
        IndicatorResult.objects.filter(appraisal__cycle=cycle).values_list(
            "appraisal__staff__employee_no",
            "section",
            "indicator",
            "name",
            "metric",
            "raw_value",
            "rule",
            "params",
            "weight",
            "position",
            "score",
            "effective_weight",
            "contribution",
        ),
    )
    lines += _lines("metrics", MemberMetrics.objects.filter(cycle=cycle).values_list("staff__employee_no", "values"))
    lines += _lines(
        "payout",
        Payout.objects.filter(cycle=cycle).values_list(
            "staff__employee_no",
            "plan__code",
            "plan_version__version",
            "gross",
            "multiplier",
            "uncapped",
            "commission",
            "clawback",
            "adjustments",
            "carried_balance",
            "total",
            "carry_forward",
            "currency",
            "status",
        ),
    )
    lines += _lines(
        "line",
        PayoutLine.objects.filter(payout__cycle=cycle).values_list(
            "payout__staff__employee_no",
            "payout__plan__code",
            "position",
            "kind",
            "label",
            "order__external_id",
            "source_cycle__name",
            "base",
            "rate",
            "amount",
        ),
    )
    return lines


def digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
