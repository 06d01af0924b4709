import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from performance.common.formatting import GRADE_LABELS
from performance.org.models import Role

from .models import Appraisal, AppraisalCycle


class AppraisalFilter(django_filters.FilterSet):
    """The team page's filters, on effective results (``selectors.with_effective`` annotates them)."""

    cycle = django_filters.ModelChoiceFilter(
        queryset=AppraisalCycle.objects.all(), label=_("Cycle"), empty_label=_("All cycles")
    )
    role = django_filters.ChoiceFilter(
        field_name="staff__role", choices=Role.choices, label=_("Role"), empty_label=_("All roles")
    )
    grade = django_filters.ChoiceFilter(
        field_name="effective_grade", choices=list(GRADE_LABELS.items()), label=_("Grade"), empty_label=_("All grades")
    )
    q = django_filters.CharFilter(method="search", label=_("Name or employee no."))
    order = django_filters.OrderingFilter(
        fields=(
            ("effective_rank", "rank"),
            ("effective_score", "score"),
            ("staff__employee_no", "employee_no"),
            ("staff__name", "name"),
        ),
        field_labels={
            "effective_rank": _("Rank"),
            "effective_score": _("Score"),
            "staff__employee_no": _("Employee no."),
            "staff__name": _("Name"),
        },
        label=_("Sort by"),
        empty_label=_("Rank (default)"),
    )

    class Meta:
        model = Appraisal
        fields = ["cycle", "role", "grade"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(staff__employee_no__iexact=value) | Q(staff__name__startswith=value))
