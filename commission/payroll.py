"""The one payout table: the contract's payout columns, then what payroll needs beside them.

``export_payouts`` (with or without ``--for-payroll``), the admin's payroll actions and its
export button all write this table, with the same columns and the same totals row.
"""

from decimal import Decimal

from django.utils.translation import gettext as _

from performance.common.exporting import table_bytes, write_table
from performance.common.formatting import multiplier_text
from performance.common.money import round_money

PAYOUT_COLUMNS = [
    "employee_no",
    "name",
    "cycle",
    "plan",
    "gross",
    "multiplier",
    "commission",
    "clawback",
    "carried_balance",
    "total",
    "currency",
    "status",
    "adjustments",
    "carry_forward",
    "team",
    "plan_version",
]
SUMMED = ("gross", "commission", "clawback", "carried_balance", "total")


def payout_row(p) -> list:
    """Amounts as Decimals to the cent (a CSV cell reads "12.50", an XLSX cell is the number 12.5
    shown with two decimals); the multiplier as the contract writes it ("1.0", "0.64")."""
    return [
        p.staff.employee_no,
        p.staff.name,
        p.cycle.name,
        p.plan.code,
        round_money(p.gross),
        Decimal(multiplier_text(p.multiplier)),
        round_money(p.commission),
        round_money(p.clawback),
        round_money(p.carried_balance),
        round_money(p.total),
        p.currency,
        p.status,
        round_money(p.adjustments),
        round_money(p.carry_forward),
        p.staff.team.name,
        p.plan_version.version,
    ]


def payout_table(payouts) -> tuple[list[str], list[list], list]:
    """(header, rows, totals row) with amounts as Decimals to the cent; totals are sums of the rows."""
    payouts = list(payouts)
    sums = {name: round_money(sum((getattr(p, name) for p in payouts), Decimal(0))) for name in SUMMED}
    totals = [_("TOTAL") if i == 0 else sums.get(name) for i, name in enumerate(PAYOUT_COLUMNS)]
    return PAYOUT_COLUMNS, [payout_row(p) for p in payouts], totals


def sheet_name() -> str:
    return _("Payouts")


def write_payouts(path, payouts, fmt: str) -> int:
    """Write the payout table to ``path`` (XLSX with a totals row); returns the number of payouts."""
    header, rows, totals = payout_table(payouts)
    return write_table(path, header, rows, fmt, totals=totals, sheet=sheet_name())


def payouts_file(payouts, fmt: str) -> bytes:
    """The payout table as the bytes of a CSV or XLSX file."""
    header, rows, totals = payout_table(payouts)
    return table_bytes(header, rows, fmt, totals=totals, sheet=sheet_name())
