import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from performance.org.models import Role

from .models import Appraisal, AppraisalCycle


class AppraisalFilter(django_filters.FilterSet):
    cycle = django_filters.ModelChoiceFilter(queryset=AppraisalCycle.objects.all(), label=_("cycle"))
    role = django_filters.ChoiceFilter(field_name="staff__role", choices=Role.choices, label=_("role"))
    grade = django_filters.CharFilter(field_name="grade", label=_("grade"))
    q = django_filters.CharFilter(method="search", label=_("name or employee no."))
    order = django_filters.OrderingFilter(
        fields=(
            ("final_score", "score"),
            ("rank", "rank"),
            ("staff__employee_no", "employee_no"),
            ("staff__name", "name"),
        ),
        label=_("sort by"),
    )

    class Meta:
        model = Appraisal
        fields = ["cycle", "role", "grade"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(staff__employee_no__iexact=value) | Q(staff__name__startswith=value))
