"""Reads of the commission side, shared by admin, exports and pages."""

from decimal import Decimal

from .models import Payout

PAYOUT_COLUMNS = ["employee_no", "name", "cycle", "plan", "gross", "multiplier", "commission", "clawback",
                  "carried_balance", "total", "currency", "status", "adjustments", "carry_forward", "team",
                  "plan_version"]


def payout_list(*, cycle=None, filters=None):
    qs = Payout.objects.select_related("staff__team", "plan", "plan_version", "cycle")
    if cycle is not None:
        qs = qs.filter(cycle=cycle)
    if filters:
        from .filters import PayoutFilter

        qs = PayoutFilter(filters, queryset=qs).qs
    return qs


def _multiplier(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def payout_rows(payouts):
    """(header, rows, totals row) with amounts as two-decimal strings."""
    payouts = list(payouts)

    def rows():
        for p in payouts:
            yield [p.staff.employee_no, p.staff.name, p.cycle.name, p.plan.code, _m(p.gross), _multiplier(p.multiplier),
                   _m(p.commission), _m(p.clawback), _m(p.carried_balance), _m(p.total), p.currency, p.status,
                   _m(p.adjustments), _m(p.carry_forward), p.staff.team.name, p.plan_version.version]

    totals = ["TOTAL", "", "", "", _m(sum((p.gross for p in payouts), Decimal(0))), "",
              _m(sum((p.commission for p in payouts), Decimal(0))), _m(sum((p.clawback for p in payouts), Decimal(0))),
              _m(sum((p.carried_balance for p in payouts), Decimal(0))), _m(sum((p.total for p in payouts), Decimal(0))),
              "", "", "", "", "", ""]
    return PAYOUT_COLUMNS, rows(), totals


def payouts_table(cycle):
    return payout_rows(payout_list(cycle=cycle).order_by("staff__employee_no", "plan__code"))


def _m(value: Decimal) -> str:
    return format(Decimal(value).quantize(Decimal("0.01")), "f")
