"""The admin's door for an import kind: a django-import-export resource built from the kind.

Its columns are the kind's schema (so an admin export reads back through the import), and
its import runs the kind itself: the same parsing, checks, locks and writes as
``import_data``, all rows or none, with each error shown on its row and column.
"""

from itertools import islice

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import fields, resources, widgets
from import_export.results import RowResult

from performance.common.formatting import cell

from .batches import run_import
from .readers import numbered
from .schema import ImportFailed

PREVIEW_ROWS = 100


class CellWidget(widgets.Widget):
    """Exports a value in the contract's file format (ISO times, true/false, plain decimals)."""

    def render(self, value, obj=None, **kwargs):
        return cell(value)


class KindResource(resources.ModelResource):
    import_kind = None  # the Kind, set by ``kind_resource`` (not "kind": a column may be named so)

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
