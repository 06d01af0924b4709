"""Every model of the app, for Django and for code outside it: each room defines its own."""

from performance.appraisal.models import (  # noqa: F401
    Appeal,
    AppealStatus,
    Appraisal,
    AppraisalCycle,
    AppraisalTemplate,
    ChunkState,
    CloseChunk,
    CycleState,
    Grading,
    Indicator,
    IndicatorResult,
    KciRating,
    MemberMetrics,
    MetricSource,
    MetricValue,
    Section,
    SectionKind,
    SectionResult,
)
from performance.ingest.models import ImportBatch  # noqa: F401
from performance.org.models import (  # noqa: F401
    Role,
    Staff,
    Team,
)
from performance.qa.models import (  # noqa: F401
    CalibrationRound,
    CalibrationScore,
    Inspection,
    InspectionScore,
    InspectionStatus,
    Scorecard,
    ScorecardItem,
)
from performance.records.models import (  # noqa: F401
    Channel,
    Order,
    ProductCategory,
    Ticket,
    TicketKind,
)
from performance.sla.models import (  # noqa: F401
    BusinessCalendar,
    CalendarDay,
    Complaint,
    ComplaintPause,
    Priority,
    SlaClock,
    SlaPolicy,
    WorkingPeriod,
)
