"""One rounding: nothing in the product rounds a number except performance/common/money.py.

Python's ``round()`` and ``Decimal.quantize`` round half-even by default, a database's ROUND
and AVG round in their own way, and a template's ``floatformat`` or a format string with a
precision (``f"{x:.2f}"``) rounds a figure a second time. Every figure a person or an export
reads is its exact value rounded once, half-up, by ``money.round_half_up`` (contract, "Edge
rules"); this test fails when a new rounding appears anywhere else.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("performance", "commission", "config")
THE_ONE_PLACE = Path("performance/common/money.py")
ROUNDING_CALLS = {"round", "quantize", "to_integral", "to_integral_value", "to_integral_exact", "Round", "Avg"}
PRECISION = re.compile(r"\.\d+[fFeEgG%]")  # a format spec that rounds: .2f, .1%, .4g
# Where a precision format is not a figure people read: SVG coordinates of the charts.
FORMAT_ALLOWED = {Path("performance/common/charts.py")}
TEMPLATE_ROUNDING = re.compile(r"\|\s*(floatformat|stringformat\s*:\s*['\"][^'\"]*\.\d)")
SQL_ROUND = re.compile(r"\b(ROUND|TRUNC|AVG)\s*\(")  # SQL keywords as SQL is written here, not prose


def product_sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT)


def roundings_in(source: str, *, formats_allowed: bool) -> list[str]:
    """Each place in ``source`` that rounds a number, as 'line: what'."""
    found = []
    tree = ast.parse(source)
    # ``x == x.to_integral()`` asks whether x is whole; it rounds nothing people read
    whole_tests = {
        id(side)
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare) and all(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops)
        for side in (node.left, *node.comparators)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in whole_tests:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in ROUNDING_CALLS:
                found.append(f"{node.lineno}: {name}(…)")
        if formats_allowed:
            continue
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = "".join(v.value for v in node.format_spec.values if isinstance(v, ast.Constant))
            if PRECISION.search(spec):
                found.append(f"{node.lineno}: format spec {spec!r}")
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
            and re.search(r"%[-+ #0]*\d*\.\d+[fFeEgG]", node.left.value)
        ):
            found.append(f"{node.lineno}: %-format {node.left.value!r}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "format"
            and len(node.args) == 2
            and isinstance(node.args[1], ast.Constant)
            and PRECISION.search(str(node.args[1].value))
        ):
            found.append(f"{node.lineno}: format(…, {node.args[1].value!r})")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_ROUND.search(node.value):
            found.append(f"{node.lineno}: SQL {SQL_ROUND.search(node.value).group(0)!r}")
    return found


def test_nothing_rounds_outside_the_money_module():
    # given every Python module of the product (migrations included)
    offenders = {}
    for path in product_sources():
        if path == THE_ONE_PLACE:
            continue
        # when it is searched for calls and formats that round
        found = roundings_in(path.read_text(encoding="utf-8"), formats_allowed=path in FORMAT_ALLOWED)
        if found:
            offenders[str(path)] = found
    # then there are none: use performance.common.money.round_half_up / round_money, and
    # performance.common.formatting.fixed_text (templates: the ``fixed`` filter)
    assert offenders == {}


def test_no_template_rounds_a_figure():
    # given every HTML template / then none uses floatformat or a stringformat with a precision
    offenders = {
        str(path.relative_to(ROOT)): [m.group(0) for m in TEMPLATE_ROUNDING.finditer(path.read_text(encoding="utf-8"))]
        for path in sorted((ROOT / "templates").rglob("*.html"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize(
    "source",
    [
        "x = round(y, 2)",
        "x = d.quantize(Decimal('0.01'))",
        "x = f'{y:.2f}'",
        "x = '%.1f' % y",
        "x = format(y, '.3f')",
        "x = qs.annotate(m=Avg('score'))",
        "x = qs.annotate(m=Round('score', 2))",
        "cur.execute('SELECT ROUND(score, 2) FROM t')",
        "x = d.to_integral_value()",
    ],
)
def test_the_search_finds_each_kind_of_rounding(source):
    # given a line that rounds outside money.py / when searched / then it is found
    assert roundings_in(source, formats_allowed=False) != []


def test_the_search_leaves_plain_code_alone():
    # given code that formats without a precision and rounds through the helper
    source = "x = round_half_up(y, 2)\nz = f'{a:>10}'\nw = format(v, 'f')\nq = '%s' % v\nb = v == v.to_integral()\n"
    # then nothing is reported
    assert roundings_in(source, formats_allowed=False) == []
