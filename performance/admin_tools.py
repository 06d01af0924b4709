"""Admin helpers for huge tables: counts that never scan millions of rows."""

from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property

BOUND = 10_000


class EstimatedCountPaginator(Paginator):
    """Unfiltered: PostgreSQL's planner estimate (pg_class.reltuples) once the table is big.
    Filtered: an exact count up to 10,000 rows, past that "10,000" (a bounded scan)."""

    @cached_property
    def count(self):
        qs = self.object_list
        if connection.vendor == "postgresql" and not qs.query.where:
            with connection.cursor() as cur:
                cur.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table])
                row = cur.fetchone()
            if row and row[0] > BOUND:
                return row[0]
        return qs.order_by()[: BOUND + 1].count() if qs.query.where else qs.count()
