"""Commission plans as data: validate, load (upsert by code, effective-dated versions), export."""

import datetime
import json
from decimal import Decimal

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from performance.common.numbers import bounded_decimal, canonical, plain_numbers, yaml_number
from performance.models import Role

from .models import CommissionPlan, Period, PlanRate, PlanVersion

FIRST_VERSION_FROM = datetime.date(2000, 1, 1)


def _decimal(errors, where, value):
    if value is None or isinstance(value, bool):
        errors.append(f"{where}: required number")
        return None
    try:
        return bounded_decimal(value, max_digits=40, places=20)  # NaN, Infinity and 1e999999999 refused
    except ValueError:
        errors.append(f"{where}: {value!r} is not a number")
        return None


def _bands(errors, where, bands):
    if not isinstance(bands, list) or not bands:
        errors.append(f"{where}: a non-empty list of [min, multiplier] pairs is required")
        return
    for j, band in enumerate(bands):
        if not isinstance(band, (list, tuple)) or len(band) != 2:
            errors.append(f"{where}[{j}]: must be a [min, multiplier] pair")
            continue
        _decimal(errors, f"{where}[{j}][0]", band[0])
        m = _decimal(errors, f"{where}[{j}][1]", band[1])
        if m is not None and m < 0:
            errors.append(f"{where}[{j}][1]: a multiplier cannot be negative")


def number_errors(*, modifiers, tiers) -> list[str]:
    """What is wrong with a plan version's modifiers and tiers as numbers (the admin's form checks these)."""
    errors = []
    for name, spec in (modifiers or {}).items():
        if name == "grade":
            if not isinstance(spec, dict):
                errors.append("modifiers.grade: must map grade to multiplier")
                continue
            for grade, m in spec.items():
                _decimal(errors, f"modifiers.grade.{grade}", m)
        else:
            _bands(errors, f"modifiers.{name}", spec)
    if tiers:
        _bands(errors, "tiers", tiers)
    return errors


def validate_plan(data: dict) -> None:
    errors = []
    for key in ("code", "name", "roles", "rates"):
        if not data.get(key):
            errors.append(f"{key}: required")
    for i, role in enumerate(data.get("roles") or []):
        if role not in Role.values:
            errors.append(f"roles[{i}]: {role!r} is not one of {', '.join(Role.values)}")
    if data.get("period", "monthly") not in Period.values:
        errors.append(f"period: must be one of {', '.join(Period.values)}")
    bounds = data.get("rate_bounds", [0.05, 0.20])
    lo = hi = None
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        errors.append("rate_bounds: must be [lowest, highest]")
    else:
        lo, hi = _decimal(errors, "rate_bounds[0]", bounds[0]), _decimal(errors, "rate_bounds[1]", bounds[1])
        if lo is not None and hi is not None and lo > hi:
            errors.append("rate_bounds: the lowest rate is above the highest")
    rates = data.get("rates") or {}
    if rates and "default" not in rates:
        errors.append("rates.default: required")
    for category, rate in rates.items():
        r = _decimal(errors, f"rates.{category}", rate)
        if r is not None and lo is not None and hi is not None and not lo <= r <= hi:
            errors.append(f"rates.{category}: {r} lies outside the bounds {lo}–{hi}")
    high_value = data.get("high_value") or {}
    if high_value:
        if (
            _decimal(errors, "high_value.min_amount", high_value.get("min_amount")) is not None
            and Decimal(str(high_value["min_amount"])) < 0
        ):
            errors.append("high_value.min_amount: cannot be negative")
        extra = _decimal(errors, "high_value.extra_rate", high_value.get("extra_rate"))
        if extra is not None and not 0 <= extra <= 1:
            errors.append("high_value.extra_rate: must lie within 0–1")
    for name, spec in (data.get("modifiers") or {}).items():
        if name == "grade":
            if not isinstance(spec, dict):
                errors.append("modifiers.grade: must map grade to multiplier")
                continue
            for grade, m in spec.items():
                _decimal(errors, f"modifiers.grade.{grade}", m)
        else:
            _bands(errors, f"modifiers.{name}", spec)
    for key in ("clawback_days",):
        if key in data and (not isinstance(data[key], int) or data[key] < 0):
            errors.append(f"{key}: must be a whole number ≥ 0")
    if data.get("cap") is not None:
        cap = _decimal(errors, "cap", data["cap"])
        if cap is not None and cap < 0:
            errors.append("cap: cannot be negative")
    if data.get("tiers"):
        _bands(errors, "tiers", data["tiers"])
        if _decimal(errors, "quota", data.get("quota")) is None:
            errors.append("quota: tiers need a quota")
    pk = data.get("pk_bonus") or {}
    if pk and (not pk.get("metric") or not isinstance(pk.get("prizes"), list)):
        errors.append("pk_bonus: needs a metric and a list of prizes")
    if data.get("effective_from"):
        try:
            datetime.date.fromisoformat(str(data["effective_from"]))
        except ValueError:
            errors.append("effective_from: must be a date, YYYY-MM-DD")
    if errors:
        raise ValidationError(errors)


def version_to_dict(version: PlanVersion) -> dict:
    rates = {"default": yaml_number(version.default_rate)}
    rates.update({r.category: yaml_number(r.rate) for r in version.rates.all()})
    data = {
        "code": version.plan.code,
        "name": version.plan.name,
        "roles": version.roles,
        "period": version.period,
        "rate_bounds": [yaml_number(version.rate_min), yaml_number(version.rate_max)],
        "rates": rates,
    }
    if version.high_value_min_amount is not None:
        data["high_value"] = {
            "min_amount": yaml_number(version.high_value_min_amount),
            "extra_rate": yaml_number(version.high_value_extra_rate),
        }
    data["modifiers"] = version.modifiers
    data["clawback_days"] = version.clawback_days
    data["cap"] = None if version.cap is None else yaml_number(version.cap)
    if version.tiers:
        data["tiers"], data["quota"] = version.tiers, yaml_number(version.quota)
    if version.pk_bonus:
        data["pk_bonus"] = version.pk_bonus
    return data


def version_to_yaml(version: PlanVersion) -> str:
    data = version_to_dict(version)
    data["effective_from"] = version.effective_from.isoformat()
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _canonical(data: dict) -> str:
    keys = (
        "name",
        "roles",
        "period",
        "rate_bounds",
        "rates",
        "high_value",
        "modifiers",
        "clawback_days",
        "cap",
        "tiers",
        "quota",
        "pk_bonus",
    )
    defaults = {"period": "monthly", "rate_bounds": [0.05, 0.2], "modifiers": {}, "clawback_days": 90}
    return json.dumps(canonical({k: data.get(k, defaults.get(k)) or defaults.get(k) for k in keys}), sort_keys=True)


def version_in_force(plan: CommissionPlan, on: datetime.date) -> PlanVersion | None:
    return plan.versions.filter(effective_from__lte=on).order_by("-effective_from", "-version").first()


@transaction.atomic
def plan_load(*, data: dict, today=None) -> tuple[PlanVersion, bool]:
    """Upsert by code. A changed definition is a new version, in force from ``effective_from``
    (default: the first version since always, later ones from today); versions in use stay."""
    validate_plan(data)
    plan, _ = CommissionPlan.objects.get_or_create(code=data["code"], defaults={"name": data["name"]})
    if plan.name != data["name"] or not plan.active:
        plan.name, plan.active = data["name"], True
        plan.save()
    latest = plan.versions.prefetch_related("rates").order_by("-version").first()
    if latest and _canonical(version_to_dict(latest)) == _canonical(data):
        return latest, False
    if data.get("effective_from"):
        effective = datetime.date.fromisoformat(str(data["effective_from"]))
    else:
        effective = FIRST_VERSION_FROM if latest is None else (today or timezone.localdate())
    rates = dict(data["rates"])
    default = rates.pop("default")
    bounds = data.get("rate_bounds", [0.05, 0.20])
    high_value = data.get("high_value") or {}
    version = PlanVersion(
        plan=plan,
        version=(latest.version + 1) if latest else 1,
        effective_from=effective,
        roles=list(data["roles"]),
        period=data.get("period", "monthly"),
        rate_min=Decimal(str(bounds[0])),
        rate_max=Decimal(str(bounds[1])),
        default_rate=Decimal(str(default)),
        high_value_min_amount=None if not high_value else Decimal(str(high_value["min_amount"])),
        high_value_extra_rate=Decimal(str(high_value.get("extra_rate", 0))),
        modifiers=plain_numbers(data.get("modifiers") or {}),
        tiers=plain_numbers(data.get("tiers") or []),
        quota=None if data.get("quota") is None else Decimal(str(data["quota"])),
        pk_bonus=plain_numbers(data.get("pk_bonus") or {}),
        clawback_days=data.get("clawback_days", 90),
        cap=None if data.get("cap") is None else Decimal(str(data["cap"])),
    )
    version.full_clean()
    version.save()
    bulk_create_with_history(
        [PlanRate(version=version, category=c, rate=Decimal(str(r))) for c, r in rates.items()], PlanRate
    )
    return version, True
