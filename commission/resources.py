"""Payout export through django-import-export: the contract's columns, amounts as 2-decimal text."""

from import_export import fields, resources

from .models import Payout
from .selectors import _m, _multiplier


class PayoutResource(resources.ModelResource):
    employee_no = fields.Field(column_name="employee_no")
    name = fields.Field(column_name="name")
    cycle = fields.Field(column_name="cycle")
    plan = fields.Field(column_name="plan")
    gross = fields.Field(column_name="gross")
    multiplier = fields.Field(column_name="multiplier")
    commission = fields.Field(column_name="commission")
    clawback = fields.Field(column_name="clawback")
    carried_balance = fields.Field(column_name="carried_balance")
    total = fields.Field(column_name="total")
    currency = fields.Field(attribute="currency", column_name="currency")
    status = fields.Field(attribute="status", column_name="status")

    class Meta:
        model = Payout
        fields = ["employee_no", "name", "cycle", "plan", "gross", "multiplier", "commission", "clawback",
                  "carried_balance", "total", "currency", "status"]
        export_order = fields

    def dehydrate_employee_no(self, p):
        return p.staff.employee_no

    def dehydrate_name(self, p):
        return p.staff.name

    def dehydrate_cycle(self, p):
        return p.cycle.name

    def dehydrate_plan(self, p):
        return p.plan.code

    def dehydrate_multiplier(self, p):
        return _multiplier(p.multiplier)

    def dehydrate_gross(self, p):
        return _m(p.gross)

    def dehydrate_commission(self, p):
        return _m(p.commission)

    def dehydrate_clawback(self, p):
        return _m(p.clawback)

    def dehydrate_carried_balance(self, p):
        return _m(p.carried_balance)

    def dehydrate_total(self, p):
        return _m(p.total)
