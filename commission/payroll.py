"""The one payout table: the contract's payout columns, then what payroll needs beside them.

``export_payouts`` (with or without ``--for-payroll``), the admin's payroll actions and its
export button all write this table, with the same columns and the same totals row.
"""

from decimal import Decimal

from performance.common.exporting import table_bytes, write_table
from performance.common.formatting import money_text, multiplier_text

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
    return [
        p.staff.employee_no,
        p.staff.name,
        p.cycle.name,
        p.plan.code,
        money_text(p.gross),
        multiplier_text(p.multiplier),
        money_text(p.commission),
        money_text(p.clawback),
        money_text(p.carried_balance),
        money_text(p.total),
        p.currency,
        p.status,
        money_text(p.adjustments),
        money_text(p.carry_forward),
        p.staff.team.name,
        p.plan_version.version,
    ]


def payout_table(payouts) -> tuple[list[str], list[list], list]:
    """(header, rows, totals row) with amounts as two-decimal strings; totals are sums of the rows."""
    payouts = list(payouts)
    sums = {name: money_text(sum((getattr(p, name) for p in payouts), Decimal(0))) for name in SUMMED}
    totals = ["TOTAL" if i == 0 else sums.get(name, "") for i, name in enumerate(PAYOUT_COLUMNS)]
    return PAYOUT_COLUMNS, [payout_row(p) for p in payouts], totals


def write_payouts(path, payouts, fmt: str) -> int:
    """Write the payout table to ``path`` (XLSX with a totals row); returns the number of payouts."""
    header, rows, totals = payout_table(payouts)
    return write_table(path, header, rows, fmt, totals=totals if fmt == "xlsx" else None)


def payouts_file(payouts, fmt: str) -> bytes:
    """The payout table as the bytes of a CSV or XLSX file."""
    header, rows, totals = payout_table(payouts)
    return table_bytes(header, rows, fmt, totals=totals if fmt == "xlsx" else None)
