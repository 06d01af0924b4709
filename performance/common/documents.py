"""Definitions people write by hand (templates, plans) as YAML or JSON files."""

from pathlib import Path

import yaml
from django.core.exceptions import ValidationError


def read_definition(path) -> dict:
    """A YAML or JSON file as a dict; JSON is valid YAML, so one parser reads both."""
    text = Path(path).read_text(encoding="utf-8-sig")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{path}: not valid YAML or JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: the top level must be a mapping")
    return data
