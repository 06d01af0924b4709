"""Admin building blocks shared by the rooms: the project's base classes, big-table changelists
and the file-import door.

Every room's admin builds on ``ModelAdmin``, ``HistoryAdmin`` (with django-simple-history's
history view) and ``TabularInline`` from here, so the admin's look and its shared rules
change in one place. The look is django-unfold's: these bases are its ``ModelAdmin`` and
``TabularInline``, with its styled forms for django-import-export and its templates for
django-simple-history (``unfold.contrib.*`` in INSTALLED_APPS).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin
from unfold import admin as unfold_admin
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.forms import ActionForm as UnfoldActionForm

from . import import_doors
from .numbers import wrong_weight_total

BOUND = 10_000


class ActionForm(UnfoldActionForm):
    """The base of a changelist's action form with extra fields (a reason, a team)."""


class ModelAdmin(unfold_admin.ModelAdmin):
    """The project's base admin: the theme's, with lists that fit a 1366 px screen."""

    list_per_page = 50
    list_filter_submit = True  # filters apply together, one request
    warn_unsaved_form = True


class HistoryAdmin(SimpleHistoryAdmin, ModelAdmin):
    """An admin whose change form links to the audit trail (who, when, before, after)."""


class TabularInline(unfold_admin.TabularInline):
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


class ImportDoor(ImportExportMixin):
    """Admin import and export of a model through its import kind (``import_kind``).

    The kind (columns, parsing, checks, locks, writing) is declared once in the ingest room,
    which registers its django-import-export resource in ``import_doors``; the admin and
    ``import_data`` then run the same code. Imports are all rows or none.
    """

    import_kind: str = ""
    import_form_class = ImportForm
    export_form_class = ExportForm

    def get_resource_classes(self, request=None):
        return [import_doors.resource_class(self.import_kind)]

    def get_import_data_kwargs(self, **kwargs):
        data = super().get_import_data_kwargs(**kwargs)
        data["rollback_on_validation_errors"] = True
        return data


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
