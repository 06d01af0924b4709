"""The admin's door for an import kind: a django-import-export resource built from the kind.

Its columns are the kind's schema (so an admin export reads back through the import), and
its import runs the kind itself: the same parsing, checks, locks and writes as
``import_data``, all rows or none, with each error shown on its row and column.
"""

from decimal import Decimal
from itertools import islice
from pathlib import Path

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import fields, resources, widgets
from import_export.formats.base_formats import Format
from import_export.results import RowResult

from performance.common import import_doors
from performance.common.formatting import cell

from .batches import run_import
from .readers import numbered, read_table
from .schema import ImportFailed

PREVIEW_ROWS = 100


class CellWidget(widgets.Widget):
    """Exports a value in the contract's file format (ISO times, true/false, plain decimals);
    numbers stay numbers, so the table writer types them in XLSX."""

    def render(self, value, obj=None, **kwargs):
        if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            return value
        return cell(value)


class TableImportFormat(Format):
    """A django-import-export import format that reads through ``import_data``'s reader.

    The admin's door then accepts exactly what the command does (UTF-8 with or without BOM,
    GB18030, XLSX) within the upload limits, and refuses the rest with the reader's message.
    ``in_stream`` is the stored upload's path (``performance.common.uploads.ImportUploadStorage``).
    """

    fmt = "csv"

    def __init__(self, encoding=None):
        self.encoding = encoding  # django-import-export passes its own; the reader decides

    def get_title(self):
        return self.fmt

    def get_extension(self):
        return self.fmt

    def can_import(self):
        return True

    def create_dataset(self, in_stream):
        header, rows = read_table(Path(in_stream), max_mb=settings.IMPORTS["MAX_UPLOAD_MB"], fmt=self.fmt)
        dataset = tablib.Dataset(headers=header)
        blank = [""] * len(header)
        for number, values in rows:
            while len(dataset) < number - 2:  # keep skipped empty rows, so positions stay row numbers
                dataset.append(blank)
            dataset.append((list(values) + blank)[: len(header)])
        return dataset


class TableImportCSV(TableImportFormat):
    fmt = "csv"


class TableImportXLSX(TableImportFormat):
    fmt = "xlsx"


import_doors.register_formats([TableImportCSV, TableImportXLSX])


class KindResource(resources.ModelResource):
    import_kind = None  # the Kind, set by ``kind_resource`` (not "kind": a column may be named so)

    def export(self, queryset=None, **kwargs):
        dataset = super().export(queryset=queryset, **kwargs)
        dataset.title = str(self.import_kind.model._meta.verbose_name_plural)
        return dataset

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        result = self.get_result_class()()
        header = [str(h or "").strip() for h in (dataset.headers or [])]
        result.diff_headers = header
        try:
            imported, _batch = run_import(
                kind=self.import_kind,
                header=header,
                rows=numbered(dataset),
                actor=kwargs.get("user"),
                file_name=kwargs.get("file_name") or "",
                checksum=kwargs.get("checksum") or "",
                door="admin",
                dry_run=dry_run,
            )
        except ImportFailed as failed:
            for error in failed.errors:
                values = dataset[error.row - 2] if 2 <= error.row <= len(dataset) + 1 else ()
                result.append_invalid_row(
                    error.row,
                    dict(zip(header, values)),
                    ValidationError({error.column or NON_FIELD_ERRORS: [error.message]}),
                )
            return result
        result.totals[RowResult.IMPORT_TYPE_NEW] = imported.created
        result.totals[RowResult.IMPORT_TYPE_UPDATE] = imported.updated
        result.total_rows = imported.rows
        if dry_run:
            for _number, values in islice(numbered(dataset), PREVIEW_ROWS):
                row = RowResult()
                row.diff = values
                result.append_row_result(row)
        return result


def _field(column) -> fields.Field:
    if callable(column.export):
        field = fields.Field(attribute=column.name, column_name=column.name, widget=CellWidget())
        field.get_value = column.export  # a value computed from the row, e.g. a holiday's kind from ``working``
        return field
    return fields.Field(attribute=column.export or column.name, column_name=column.name, widget=CellWidget())


def kind_resource(kind) -> type[KindResource]:
    """A resource class for ``kind``: its schema's columns, importing through the kind."""
    attrs = {column.name: _field(column) for column in kind.schema.columns}
    attrs["import_kind"] = kind
    attrs["Meta"] = type(
        "Meta",
        (),
        {"model": kind.model, "fields": kind.schema.names, "export_order": kind.schema.names, "import_id_fields": []},
    )
    return type(f"{kind.name.title()}Resource", (KindResource,), attrs)
