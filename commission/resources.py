"""The payout changelist's export button writes the payout table (see ``payroll``)."""

import tablib
from import_export import resources

from .models import Payout
from .payroll import payout_table


class PayoutResource(resources.ModelResource):
    class Meta:
        model = Payout
        fields = []

    def export(self, queryset=None, **kwargs):
        header, rows, _totals = payout_table(queryset.select_related("staff__team", "plan", "plan_version", "cycle"))
        return tablib.Dataset(*rows, headers=header)
