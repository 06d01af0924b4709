"""Appraisal templates as data: validate, load (upsert by code, versioned) and export.

The same validation serves ``load_template`` and the admin, so a template that loads
from YAML is exactly a template that saves in the admin.
"""

import json
from decimal import Decimal

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from performance.common.numbers import canonical, plain_numbers, wrong_weight_total, yaml_number
from performance.org.models import Role

from .models import AppraisalTemplate, Grading, Indicator, Section, SectionKind
from .rules import check_indicator, check_number

SECTION_KINDS = {k.value for k in SectionKind}
GRADING_METHODS = {g.value for g in Grading}


def _check_weights(errors, where, weights):
    total = wrong_weight_total(weights)
    if total is not None:
        errors.append(f"{where}: weights sum to {float(total):g}, not 100")


def validate_template(data: dict) -> None:
    """Raise one ValidationError listing every problem, each named by its path."""
    errors = []
    for key in ("code", "name", "role", "sections"):
        if not data.get(key):
            errors.append(f"{key}: required")
    if data.get("role") and data["role"] not in Role.values:
        errors.append(f"role: {data['role']!r} is not one of {', '.join(Role.values)}")
    sections = data.get("sections") or []
    if not isinstance(sections, list):
        errors.append("sections: must be a list")
        sections = []
    section_weights, seen_sections = [], set()
    for i, section in enumerate(sections):
        where = f"sections[{i}]"
        if not isinstance(section, dict):
            errors.append(f"{where}: must be a mapping")
            continue
        code = section.get("code")
        if not code:
            errors.append(f"{where}.code: required")
        elif code in seen_sections:
            errors.append(f"{where}.code: {code!r} appears twice")
        seen_sections.add(code)
        if section.get("kind") not in SECTION_KINDS:
            errors.append(f"{where}.kind: must be kpi or kci")
        section_weights.append(check_number(errors, f"{where}.weight", section.get("weight"), positive=True))
        indicators = section.get("indicators") or []
        if not indicators:
            errors.append(f"{where}.indicators: at least one indicator is required")
        weights, seen = [], set()
        for j, ind in enumerate(indicators):
            iwhere = f"{where}.indicators[{j}]"
            if not isinstance(ind, dict):
                errors.append(f"{iwhere}: must be a mapping")
                continue
            if not ind.get("code"):
                errors.append(f"{iwhere}.code: required")
            elif ind["code"] in seen:
                errors.append(f"{iwhere}.code: {ind['code']!r} appears twice")
            seen.add(ind.get("code"))
            weights.append(check_number(errors, f"{iwhere}.weight", ind.get("weight"), positive=True))
            scoring = ind.get("scoring") or {}
            check_indicator(
                errors, f"{iwhere}.scoring", scoring.get("rule"), scoring, has_metric=bool(ind.get("metric"))
            )
        _check_weights(errors, f"{where}.indicators", weights)
    _check_weights(errors, "sections", section_weights)
    grading = data.get("grading") or {"method": "thresholds", "grades": []}
    method = grading.get("method", "thresholds")
    if method not in GRADING_METHODS:
        errors.append(f"grading.method: {method!r} is not one of {', '.join(sorted(GRADING_METHODS))}")
    for k, pair in enumerate(grading.get("grades") or []):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not pair[1]:
            errors.append(f"grading.grades[{k}]: must be a [bound, grade] pair")
        elif pair[0] is None and method == "thresholds":
            errors.append(f"grading.grades[{k}]: a threshold needs a number")
        elif pair[0] is not None:
            check_number(errors, f"grading.grades[{k}][0]", pair[0])
    min_tickets = (data.get("eligibility") or {}).get("min_tickets", 0)
    if not isinstance(min_tickets, int) or min_tickets < 0:
        errors.append("eligibility.min_tickets: must be a whole number ≥ 0")
    if errors:
        raise ValidationError(errors)


def template_to_dict(template: AppraisalTemplate) -> dict:
    sections = []
    for section in template.sections.all():
        indicators = []
        for ind in section.indicators.all():
            item = {"code": ind.code}
            if ind.name:
                item["name"] = ind.name
            if ind.metric:
                item["metric"] = ind.metric
            item["weight"] = yaml_number(ind.weight)
            item["scoring"] = {"rule": ind.rule, **ind.params}
            indicators.append(item)
        sections.append(
            {
                "code": section.code,
                "kind": section.kind,
                "weight": yaml_number(section.weight),
                "indicators": indicators,
            }
        )
    return {
        "code": template.code,
        "name": template.name,
        "role": template.role,
        "sections": sections,
        "grading": {"method": template.grading_method, "grades": template.grades},
        "eligibility": {"min_tickets": template.min_tickets},
    }


def template_to_yaml(template: AppraisalTemplate) -> str:
    return yaml.safe_dump(template_to_dict(template), allow_unicode=True, sort_keys=False)


def _canonical(data: dict) -> str:
    keep = {k: data.get(k) for k in ("code", "name", "role", "sections")}
    keep["grading"] = data.get("grading") or {"method": "thresholds", "grades": []}
    keep["eligibility"] = {"min_tickets": (data.get("eligibility") or {}).get("min_tickets", 0)}
    return json.dumps(canonical(keep), sort_keys=True, ensure_ascii=False)


@transaction.atomic
def template_load(*, data: dict) -> tuple[AppraisalTemplate, bool]:
    """Upsert by code: an unchanged definition is a no-op, a changed one a new version.

    Older versions stay (cycles keep the version they started with) but are
    deactivated, so "every active template" means the latest of each code.
    """
    validate_template(data)
    latest = (
        AppraisalTemplate.objects.filter(code=data["code"])
        .prefetch_related("sections__indicators")
        .order_by("-version")
        .first()
    )
    if latest and _canonical(template_to_dict(latest)) == _canonical(data):
        if not latest.active:
            latest.active = True
            latest.save(update_fields=["active"])
        return latest, False
    grading = data.get("grading") or {}
    template = AppraisalTemplate.objects.create(
        code=data["code"],
        version=(latest.version + 1) if latest else 1,
        name=data["name"],
        role=data["role"],
        grading_method=grading.get("method", "thresholds"),
        grades=plain_numbers(grading.get("grades") or []),
        min_tickets=(data.get("eligibility") or {}).get("min_tickets", 0),
    )
    AppraisalTemplate.objects.filter(code=data["code"]).exclude(pk=template.pk).update(active=False)
    for i, sec in enumerate(data["sections"]):
        section = Section.objects.create(
            template=template, code=sec["code"], kind=sec["kind"], weight=Decimal(str(sec["weight"])), position=i
        )
        for j, ind in enumerate(sec["indicators"]):
            params = dict(ind.get("scoring") or {})
            rule = params.pop("rule")
            Indicator.objects.create(
                section=section,
                code=ind["code"],
                name=ind.get("name", ""),
                metric=ind.get("metric", "") or "",
                weight=Decimal(str(ind["weight"])),
                rule=rule,
                params=plain_numbers(params),
                position=j,
            )
    return template, True
