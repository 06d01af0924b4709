from django.contrib import admin

from performance.common.admin import BigTableAdmin, ImportDoor

from .keys import sample_key
from .models import Order, Ticket


@admin.register(Ticket)
class TicketAdmin(ImportDoor, BigTableAdmin):
    import_kind = "tickets"
    list_display = [
        "external_id",
        "staff",
        "kind",
        "channel",
        "created_at",
        "first_response_at",
        "resolved_at",
        "rating",
        "reopened",
    ]
    list_filter = [("created_at", admin.DateFieldListFilter), "channel", "kind", "staff__team", "rating"]
    search_fields = ["=external_id", "=staff__employee_no", "=customer_id"]
    list_select_related = ["staff"]
    raw_id_fields = ["staff"]
    ordering = ["-created_at"]

    def save_model(self, request, obj, form, change):
        obj.qa_key = sample_key(obj.external_id)  # the stored QA sampling key follows the external id
        super().save_model(request, obj, form, change)


@admin.register(Order)
class OrderAdmin(ImportDoor, BigTableAdmin):
    import_kind = "orders"
    list_display = [
        "external_id",
        "staff",
        "customer_id",
        "product_category",
        "amount",
        "paid_at",
        "refunded_amount",
        "is_renewal",
    ]
    list_filter = [("paid_at", admin.DateFieldListFilter), "product_category", "is_renewal", "staff__team"]
    search_fields = ["=external_id", "=staff__employee_no", "=customer_id"]
    list_select_related = ["staff"]
    raw_id_fields = ["staff", "ticket"]
    ordering = ["-paid_at"]
