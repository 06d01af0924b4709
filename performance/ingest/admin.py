from django.contrib import admin

from performance.common.admin import ModelAdmin

from .models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(ModelAdmin):
    """Every import, through either door: read-only, written by the import itself."""

    list_display = [
        "imported_at",
        "kind",
        "file_name",
        "rows",
        "rows_added",
        "rows_updated",
        "imported_by",
        "door",
        "checksum",
    ]
    list_filter = ["kind", "door"]
    search_fields = ["file_name", "=checksum"]
    list_select_related = ["imported_by"]
    readonly_fields = list_display
