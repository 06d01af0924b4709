from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from performance.common.admin import BigTableAdmin, ImportDoor, ModelAdmin
from performance.common.formatting import money_display

from .keys import sample_key
from .models import Order, ProductCategory, Ticket


@admin.register(ProductCategory)
class ProductCategoryAdmin(ModelAdmin):
    """The names people read for the product category codes of orders and commission plans."""

    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class RatingFilter(admin.SimpleListFilter):
    """Ratings 1–5 as fixed choices: Django's default lists the distinct values, a scan of every ticket."""

    title = _("rating")
    parameter_name = "rating"

    def lookups(self, request, model_admin):
        return [(str(n), str(n)) for n in range(1, 6)]

    def queryset(self, request, queryset):
        return queryset.filter(rating=int(self.value())) if self.value() else queryset


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
        "subject",
    ]
    list_filter = [
        ("created_at", admin.DateFieldListFilter),
        "channel",
        "kind",
        "staff__team",
        RatingFilter,
        "reopened",
    ]
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
        "category",
        "amount_shown",
        "paid_at",
        "refunded_shown",
        "is_renewal",
    ]
    list_filter = [("paid_at", admin.DateFieldListFilter), "product_category", "is_renewal", "staff__team"]
    search_fields = ["=external_id", "=staff__employee_no", "=customer_id"]
    list_select_related = ["staff"]
    raw_id_fields = ["staff", "ticket"]
    ordering = ["-paid_at"]

    def get_queryset(self, request):
        names = ProductCategory.objects.filter(code=OuterRef("product_category")).values("name")[:1]
        return super().get_queryset(request).annotate(category_name=Subquery(names))

    @admin.display(description=_("product category"), ordering="product_category")
    def category(self, obj):
        return obj.category_name or obj.product_category

    @admin.display(description=_("amount"), ordering="amount")
    def amount_shown(self, obj):
        return money_display(obj.amount)

    @admin.display(description=_("refunded amount"), ordering="refunded_amount")
    def refunded_shown(self, obj):
        return money_display(obj.refunded_amount) if obj.refunded_amount else "—"
