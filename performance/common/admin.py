"""Admin building blocks shared by the rooms: the project's base classes, big-table changelists
and the file-import door.

Every room's admin builds on ``ModelAdmin``, ``HistoryAdmin`` (with django-simple-history's
history view) and ``TabularInline`` from here, so the admin's look and its shared rules
change in one place.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.forms import ImportForm
from simple_history.admin import SimpleHistoryAdmin

from . import import_doors
from .exporting import EXPORT_FORMATS
from .formatting import megabytes_text
from .numbers import wrong_weight_total
from .uploads import ImportUploadStorage, max_upload_bytes

BOUND = 10_000


class ModelAdmin(admin.ModelAdmin):
    """The project's base admin."""


class HistoryAdmin(SimpleHistoryAdmin, ModelAdmin):
    """An admin whose change form links to the audit trail (who, when, before, after).

    A history URL whose id is not an id of this model answers 404 (django-simple-history's
    views would look it up as it is and fail with a 500).
    """

    def history_view(self, request, object_id, extra_context=None):
        self.valid_pk_or_404(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self.valid_pk_or_404(object_id)
        self.valid_pk_or_404(version_id, self.model.history.model)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def valid_pk_or_404(self, value, model=None):
        try:
            (model or self.model)._meta.pk.to_python(unquote(value))
        except (ValidationError, ValueError, TypeError):
            raise Http404 from None


class TabularInline(admin.TabularInline):
    """The project's base inline."""


class EstimatedCountPaginator(Paginator):
    """Unfiltered: PostgreSQL's planner estimate (pg_class.reltuples) once the table is big.
    Filtered: an exact count up to 10,000 rows, past that "10,000" (a bounded scan)."""

    @cached_property
    def count(self):
        qs = self.object_list
        if connection.vendor == "postgresql" and not qs.query.where:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table]
                )
                row = cur.fetchone()
            if row and row[0] > BOUND:
                return row[0]
        return qs.order_by()[: BOUND + 1].count() if qs.query.where else qs.count()


class BigTableAdmin(ModelAdmin):
    """A changelist over millions of rows: no full count, a page at a time."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50


class LimitedImportForm(ImportForm):
    """django-import-export's import form, saying so when the upload was over the size limit."""

    def __init__(self, formats, resources, refused=None, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.refused = refused

    def clean(self):
        data = super().clean()
        if self.refused:
            self.errors.pop("import_file", None)  # not "this field is required": say why it is missing
            self.add_error(
                "import_file",
                _("The file is larger than the %(max)s MB an import may be.")
                % {"max": megabytes_text(max_upload_bytes())},
            )
        return data


class ImportDoor(ImportExportMixin):
    """Admin import and export of a model through its import kind (``import_kind``).

    The kind (columns, parsing, checks, locks, writing) is declared once in the ingest room,
    which registers its django-import-export resource in ``import_doors``; the admin and
    ``import_data`` then run the same code. Imports are all rows or none.

    The upload goes through the same reader as ``import_data`` (``import_doors.import_formats``:
    encodings, size and XLSX limits), is kept on disk between the preview and the
    confirmation (``ImportUploadStorage``), and is deleted as soon as the preview fails.
    Exports go through the one table writer (formula-safe, typed numbers).
    """

    import_kind: str = ""
    import_form_class = LimitedImportForm
    tmp_storage_class = ImportUploadStorage
    export_formats = EXPORT_FORMATS

    @property
    def import_formats(self):
        return import_doors.import_formats()

    def get_resource_classes(self, request=None):
        return [import_doors.resource_class(self.import_kind)]

    def get_import_data_kwargs(self, **kwargs):
        data = super().get_import_data_kwargs(**kwargs)
        data["rollback_on_validation_errors"] = True
        return data

    def get_import_form_kwargs(self, request):
        kwargs = super().get_import_form_kwargs(request)  # reads request.FILES: the upload is parsed now
        kwargs["refused"] = getattr(request, "upload_refused", None)
        return kwargs

    def write_to_tmp_storage(self, import_file, input_format):
        storage = ImportUploadStorage(read_mode="rb")
        storage.save_upload(import_file)
        return storage

    def add_data_read_fail_error_to_form(self, form, e):
        messages = [str(error) for error in getattr(e, "errors", ())]  # the reader's refusals
        if not messages:
            return super().add_data_read_fail_error_to_form(form, e)
        for message in messages:
            form.add_error("import_file", message)

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        upload = request.FILES.get("import_file") if request.method == "POST" else None
        stored = getattr(upload, "tmp_storage_name", None)
        context = getattr(response, "context_data", None) or {}
        if stored and not context.get("confirm_form"):
            ImportUploadStorage(name=stored).remove()  # nothing to confirm: keep no copy
        return response


class WeightsFormSet(forms.BaseInlineFormSet):
    """An inline of weighted rows (sections, indicators, scorecard items): weights sum to 100."""

    def clean(self):
        super().clean()
        weights = [
            f.cleaned_data.get("weight") for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        total = wrong_weight_total(weights)
        if total is not None:
            raise ValidationError(_("Weights sum to %(total)s, not 100.") % {"total": total})
