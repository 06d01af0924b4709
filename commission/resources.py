"""The payout changelist's export button writes the payout table (see ``payroll``)."""

import tablib
from import_export import resources

from .models import Payout
from .payroll import payout_table, sheet_name


class PayoutResource(resources.ModelResource):
    class Meta:
        model = Payout
        fields = []

    def export(self, queryset=None, **kwargs):
        header, rows, totals = payout_table(queryset.select_related("staff__team", "plan", "plan_version", "cycle"))
        dataset = tablib.Dataset(*rows, headers=header, title=sheet_name())
        dataset.totals = totals  # the XLSX totals row (``performance.common.exporting.TableFormat``)
        return dataset
