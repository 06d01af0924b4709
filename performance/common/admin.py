"""Admin building blocks shared by the rooms: the project's base classes, big-table changelists
and the file-import door.

Every room's admin builds on ``ModelAdmin``, ``HistoryAdmin`` (with django-simple-history's
history view) and ``TabularInline`` from here, so the admin's look and its shared rules
change in one place. The look is django-unfold's: these bases are its ``ModelAdmin`` and
``TabularInline``, with its styled forms for django-import-export and its templates for
django-simple-history (``unfold.contrib.*`` in INSTALLED_APPS).

The shared rules: every permission the admin asks (to list, add, change, delete, import,
export, run an action or open a custom view) is a question to the permission matrix
(``authority.can``), and every change a form would save is checked against the row locks
(``locking``) first, for the row as stored and for the row as it would be saved.
"""

import copy
from functools import wraps

from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.forms.models import construct_instance
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin, ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin
from unfold import admin as unfold_admin
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.forms import ActionForm as UnfoldActionForm
from unfold.templatetags import unfold_list

from . import authority, import_doors, locking
from .exporting import EXPORT_FORMATS
from .formatting import megabytes_text
from .numbers import wrong_weight_total
from .uploads import ImportUploadStorage, max_upload_bytes


def _headers_once(result_headers):
    """django-unfold 0.91 rebuilds every column header (sort links, three query strings per
    sortable column) for every row of a changelist: 50 rows meant 51 builds, about a quarter of
    the page's time. The headers depend only on the changelist, so build them once per
    changelist and hand the same list to every row. Upstream's fix (unfoldadmin/django-unfold
    pull request 2172) is not released yet; drop this when the pinned version has it
    (tests/test_admin.py checks the rows still read the headers).
    """

    @wraps(result_headers)
    def once(cl):
        if getattr(cl, "_unfold_headers", None) is None:
            cl._unfold_headers = list(result_headers(cl))
        return iter(cl._unfold_headers)

    return once


unfold_list.result_headers = _headers_once(unfold_list.result_headers)

BOUND = 10_000


class LockCheckedForm(forms.BaseForm):
    """A form mixin: refuse a change a row lock forbids, as a form error (nothing is saved)."""

    def clean(self):
        data = super().clean()
        instance = getattr(self, "instance", None)
        if instance is None:
            return data
        changed = set(self.changed_data)
        try:
            if instance.pk is not None:
                locking.assert_change(type(instance).objects.get(pk=instance.pk), changed)
            candidate = copy.copy(instance)
            construct_instance(self, candidate)
            locking.assert_change(candidate, changed if instance.pk is not None else None)
        except locking.RowLocked as exc:
            raise ValidationError(exc.messages) from None
        return data


class PolicyAdmin:
    """Permissions from the matrix: ``app.verb_model`` for the admin's model (mixed into every admin)."""

    def allows(self, request, verb: str, obj=None) -> bool:
        return authority.can(request.user, authority.perm_name(self.opts, verb), obj)

    def has_module_permission(self, request):
        return self.allows(request, "view") or self.allows(request, "add")

    def has_view_permission(self, request, obj=None):
        return self.allows(request, "view", obj)

    def has_add_permission(self, request):
        return self.allows(request, "add")

    def has_change_permission(self, request, obj=None):
        return self.allows(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self.allows(request, "delete", obj)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (LockCheckedForm, form), {})

    def get_readonly_fields(self, request, obj=None):
        """A locked row that still takes some fields (an order's refund) shows only those as editable."""
        fields = list(super().get_readonly_fields(request, obj))
        lock = locking.lock_of(obj)
        if lock is not None and lock.editable:
            names = [f.name for f in (*self.opts.fields, *self.opts.many_to_many) if f.editable and not f.primary_key]
            fields += [n for n in names if n not in lock.editable and n not in fields]
        return fields


class ActionForm(UnfoldActionForm):
    """The base of a changelist's action form with extra fields (a reason, a team)."""


class ModelAdmin(PolicyAdmin, unfold_admin.ModelAdmin):
    """The project's base admin: the theme's, with lists that fit a 1366 px screen."""

    list_per_page = 50
    list_filter_submit = True  # filters apply together, one request
    warn_unsaved_form = True


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


class TabularInline(unfold_admin.TabularInline):
    """The project's base inline: editing its rows is editing the parent, so the parent's rule decides."""

    def _parent_allows(self, request, verb, obj):
        return authority.can(request.user, authority.perm_name(self.parent_model._meta, verb), obj)

    def has_view_permission(self, request, obj=None):
        return self._parent_allows(request, "view", obj)

    def has_add_permission(self, request, obj=None):
        return self._parent_allows(request, "add" if obj is None else "change", obj)

    def has_change_permission(self, request, obj=None):
        return self._parent_allows(request, "add" if obj is None else "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent_allows(request, "add" if obj is None else "change", obj)


def admin_door(verb: str):
    """A custom admin view's rule: the matrix's ``verb`` on the view's model (on the row ``pk`` names).

    An unknown ``pk`` answers 404; a login the matrix refuses, 403. The verb is kept on the view
    (``view.door``) for the test that walks every door.
    """

    def decorate(method):
        @wraps(method)
        def wrapper(self, request, *args, **kwargs):
            obj = get_object_or_404(self.model, pk=kwargs["pk"]) if "pk" in kwargs else None
            if not self.allows(request, verb, obj):
                raise PermissionDenied
            return method(self, request, *args, **kwargs)

        wrapper.door = verb
        return wrapper

    return decorate


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


class ExportDoor(ExportMixin):
    """django-import-export's export, allowed by the matrix's ``export`` verb of the model."""

    export_form_class = ExportForm

    def has_export_permission(self, request):
        return self.allows(request, "export")


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
    ``import_data`` then run the same code. Imports are all rows or none. Who may import and
    export is the matrix's ``import`` and ``export`` verbs of the model.

    The upload goes through the same reader as ``import_data`` (``import_doors.import_formats``:
    encodings, size and XLSX limits), is kept on disk between the preview and the
    confirmation (``ImportUploadStorage``), and is deleted as soon as the preview fails.
    Exports go through the one table writer (formula-safe, typed numbers).
    """

    import_kind: str = ""
    import_form_class = LimitedImportForm
    export_form_class = ExportForm
    tmp_storage_class = ImportUploadStorage
    export_formats = EXPORT_FORMATS

    @property
    def import_formats(self):
        return import_doors.import_formats()

    def has_import_permission(self, request):
        return self.allows(request, "import")

    def has_export_permission(self, request):
        return self.allows(request, "export")

    def process_dataset(self, dataset, form, request, **kwargs):
        """The file's SHA-256 goes with the rows, for the import batch the import records."""
        stored = ImportUploadStorage(name=form.cleaned_data["import_file_name"], read_mode="rb")
        kwargs["checksum"] = import_doors.file_checksum(stored.path())
        return super().process_dataset(dataset, form, request, **kwargs)

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
