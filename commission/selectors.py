"""Reads of the commission side, shared by admin, exports and pages."""

from performance.org.selectors import visible_staff

from .models import LineKind, Payout, PayoutLine


def payout_list(*, cycle=None):
    """Payouts with everything the payout table shows, of one cycle if given, by member and plan."""
    qs = Payout.objects.select_related("staff__team", "plan", "plan_version", "cycle")
    if cycle is not None:
        qs = qs.filter(cycle=cycle)
    return qs.order_by("staff__employee_no", "plan__code")


def visible_payouts(*, viewer):
    """Payouts a login may see: its own; managers their team's; Finance and HR all."""
    return Payout.objects.filter(staff__in=visible_staff(viewer=viewer)).select_related(
        "staff", "cycle", "plan", "plan_version"
    )


def with_adjusters(payouts: list[Payout]) -> list[Payout]:
    """Each payout with ``adjusted_by``: the logins that added an adjustment to it (one query for all)."""
    by_payout: dict[int, set] = {}
    for payout_id, user_id in PayoutLine.objects.filter(
        payout__in=[p.pk for p in payouts], kind=LineKind.ADJUSTMENT
    ).values_list("payout_id", "created_by_id"):
        by_payout.setdefault(payout_id, set()).add(user_id)
    for payout in payouts:
        payout.adjusted_by = by_payout.get(payout.pk, set())
    return payouts
