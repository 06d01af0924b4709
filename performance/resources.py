"""django-import-export resources for the admin: the contract's column names, the same
parsers as ``import_data``, foreign keys from a per-import cache, all rows or none."""

from import_export import fields, resources, widgets

from . import importing
from .complaints import DueTimes
from .exporting import cell
from .models import BusinessCalendar, CalendarDay, Complaint, Order, Staff, Team, Ticket


class ParserWidget(widgets.Widget):
    """Cleans a cell with an ``importing`` parser, so admin and command read values alike."""

    def __init__(self, parse, default=None):
        super().__init__()
        self.parse, self.default = parse, default

    def clean(self, value, row=None, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return self.default
        return self.parse(value)

    def render(self, value, obj=None, **kwargs):
        return cell(value)


class CachedForeignKeyWidget(widgets.ForeignKeyWidget):
    """Resolves ``employee_no`` (or another key) from one query per import, not one per row."""

    def __init__(self, model, field, label):
        super().__init__(model, field)
        self.label, self.cache = label, None

    def reset(self):
        self.cache = None

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if self.cache is None:
            self.cache = {getattr(o, self.field): o for o in self.model.objects.only("pk", self.field)}
        key = importing._text(value)
        try:
            return self.cache[key]
        except KeyError:
            raise ValueError(f"unknown {self.label} {key!r}") from None


def parsed(column, parse, default=None, attribute=None):
    return fields.Field(attribute=attribute or column, column_name=column, widget=ParserWidget(parse, default))


def staff_ref(column, attribute):
    return fields.Field(attribute=attribute, column_name=column,
                        widget=CachedForeignKeyWidget(Staff, "employee_no", "employee_no"))


class AllOrNothingResource(resources.ModelResource):
    def before_import(self, dataset, **kwargs):
        for field in self.fields.values():
            if isinstance(field.widget, CachedForeignKeyWidget):
                field.widget.reset()


class TicketResource(AllOrNothingResource):
    external_id = parsed("external_id", importing.parse_str(64))
    employee_no = staff_ref("employee_no", "staff")
    kind = parsed("kind", importing.parse_choice(["inquiry", "support", "aftersales"]), "support")
    channel = parsed("channel", importing.parse_choice(importing.CHANNELS), "chat")
    customer_id = parsed("customer_id", importing.parse_str(64), "")
    created_at = parsed("created_at", importing.parse_datetime)
    first_response_at = parsed("first_response_at", importing.parse_datetime)
    avg_response_seconds = parsed("avg_response_seconds", importing.parse_int(0))
    resolved_at = parsed("resolved_at", importing.parse_datetime)
    reopened = parsed("reopened", importing.parse_bool, False)
    rating = parsed("rating", importing.parse_int(1, 5))

    class Meta:
        model = Ticket
        import_id_fields = ["external_id"]
        fields = ["external_id", "employee_no", "kind", "channel", "customer_id", "created_at", "first_response_at",
                  "avg_response_seconds", "resolved_at", "reopened", "rating"]
        clean_model_instances = True
        skip_unchanged = True


class OrderResource(AllOrNothingResource):
    external_id = parsed("external_id", importing.parse_str(64))
    employee_no = staff_ref("employee_no", "staff")
    customer_id = parsed("customer_id", importing.parse_str(64))
    product_category = parsed("product_category", importing.parse_str(64))
    amount = parsed("amount", importing.parse_money)
    ordered_at = parsed("ordered_at", importing.parse_datetime)
    paid_at = parsed("paid_at", importing.parse_datetime)
    ticket = fields.Field(attribute="ticket", column_name="ticket",
                          widget=CachedForeignKeyWidget(Ticket, "external_id", "ticket"))
    is_renewal = parsed("is_renewal", importing.parse_bool, False)
    term_end = parsed("term_end", importing.parse_date)
    refunded_amount = parsed("refunded_amount", importing.parse_money, importing.Decimal("0.00"))
    refunded_at = parsed("refunded_at", importing.parse_datetime)

    class Meta:
        model = Order
        import_id_fields = ["external_id"]
        fields = ["external_id", "employee_no", "customer_id", "product_category", "amount", "ordered_at", "paid_at",
                  "ticket", "is_renewal", "term_end", "refunded_amount", "refunded_at"]
        clean_model_instances = True
        skip_unchanged = True

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        # Only the tickets this file names are cached, never the whole ticket table.
        refs = {importing._text(v) for v in dataset["ticket"] if v} if "ticket" in dataset.headers else set()
        self.fields["ticket"].widget.cache = {
            t.external_id: t for t in Ticket.objects.filter(external_id__in=refs).only("pk", "external_id")
        }


class ComplaintResource(AllOrNothingResource):
    external_id = parsed("external_id", importing.parse_str(64))
    employee_no = staff_ref("employee_no", "staff")
    handler = staff_ref("handler", "handler")
    customer_id = parsed("customer_id", importing.parse_str(64), "")
    channel = parsed("channel", importing.parse_choice(importing.CHANNELS), "chat")
    priority = parsed("priority", importing.parse_choice(["low", "normal", "high", "urgent"]))
    received_at = parsed("received_at", importing.parse_datetime)
    first_response_at = parsed("first_response_at", importing.parse_datetime)
    resolved_at = parsed("resolved_at", importing.parse_datetime)
    confirmed_at = parsed("confirmed_at", importing.parse_datetime)
    summary = parsed("summary", str, "")

    class Meta:
        model = Complaint
        import_id_fields = ["external_id"]
        fields = ["external_id", "employee_no", "handler", "customer_id", "channel", "priority", "received_at",
                  "first_response_at", "resolved_at", "confirmed_at", "summary"]
        clean_model_instances = True

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.due = DueTimes()

    def before_save_instance(self, instance, row, **kwargs):
        instance.first_response_due, instance.resolution_due = self.due.for_complaint(
            instance.priority, instance.received_at)


class StaffResource(AllOrNothingResource):
    employee_no = parsed("employee_no", importing.parse_str(32))
    name = parsed("name", importing.parse_str(100))
    email = parsed("email", importing.parse_str(254), "")
    team = fields.Field(attribute="team", column_name="team", widget=widgets.ForeignKeyWidget(Team, "name"))
    role = parsed("role", importing.parse_choice(["agent", "presales", "aftersales", "sales", "operator", "manager"]))
    manager = staff_ref("manager", "manager")
    hired_on = parsed("hired_on", importing.parse_date)
    active = parsed("active", importing.parse_bool, True)

    class Meta:
        model = Staff
        import_id_fields = ["employee_no"]
        fields = ["employee_no", "name", "email", "team", "role", "manager", "hired_on", "active"]
        clean_model_instances = True
        skip_unchanged = True


class CalendarDayResource(AllOrNothingResource):
    """Holidays and make-up working days, e.g. the State Council's list for a year."""

    calendar = fields.Field(attribute="calendar", column_name="calendar",
                            widget=widgets.ForeignKeyWidget(BusinessCalendar, "name"))
    date = parsed("date", importing.parse_date)
    working = parsed("working", importing.parse_bool, False)
    name = parsed("name", importing.parse_str(100), "")

    class Meta:
        model = CalendarDay
        import_id_fields = ["calendar", "date"]
        fields = ["calendar", "date", "working", "name"]
        clean_model_instances = True
