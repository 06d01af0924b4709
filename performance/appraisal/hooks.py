"""What another app adds to a cycle's life, without this app importing it.

``commission`` connects its functions here in ``CommissionConfig.ready()``: pinning plans
when a cycle is created, the roles it pays, refusing a close while payouts are approved,
computing payouts after a close, and which cycles its approved payouts lock. The appraisal
side calls every connected function with keyword arguments and passes the data it already
has (the close's metrics) explicitly.
"""


class Hook(list):
    """The functions connected to one moment, called in the order they were connected."""

    def connect(self, fn):
        if fn not in self:
            self.append(fn)
        return fn


cycle_created = Hook()  # fn(*, cycle, plans): after a cycle is created (plans: codes asked for, or None)
member_roles = Hook()  # fn(*, cycle) -> set of roles also closed in the cycle (e.g. the roles a plan pays)
before_close = Hook()  # fn(*, cycle): raise ValidationError to refuse the close
after_close = Hook()  # fn(*, cycle, metrics): in the close's last transaction, with every member's metrics
after_calibration = Hook()  # fn(*, cycle, staff_ids): a calibration changed these members' results
locked_cycle_ids = Hook()  # fn() -> a query of cycle ids whose inputs are locked (approved payouts)
