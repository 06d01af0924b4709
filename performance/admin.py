"""Django's admin finds every room's admin classes through this module.

The import kinds register their admin doors first (see performance.common.import_doors).
"""

from performance.appraisal import admin as appraisal_admin  # noqa: F401
from performance.ingest import admin as ingest_admin  # noqa: F401
from performance.ingest import kinds  # noqa: F401
from performance.org import admin as org_admin  # noqa: F401
from performance.qa import admin as qa_admin  # noqa: F401
from performance.records import admin as records_admin  # noqa: F401
from performance.sla import admin as sla_admin  # noqa: F401
