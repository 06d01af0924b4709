"""The contract's exports on a pinned demo company, compared byte for byte with tests/golden/.

A refactoring must leave every exported figure as it was, and every row the close wrote
(``close_results.txt``: appraisals, section and indicator results, metrics, payouts and
statement lines, see ``tests/snapshots.py``). A change that is meant to alter an
export regenerates the files (``UPDATE_GOLDEN=1 pytest tests/test_golden_exports.py``) and the
diff of tests/golden/ in the same commit shows, line by line, what changed and why.
"""

import csv
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from performance.models import AppraisalCycle
from tests.snapshots import close_snapshot

GOLDEN = Path(__file__).parent / "golden"
CYCLE = "2026-09"
EXPORTS = {
    "results.csv": ["export_results", CYCLE],
    "payouts.csv": ["export_payouts", CYCLE],
    "complaints.csv": ["export_complaints", "--start", "2026-09-01", "--end", "2026-10-01"],
    "inspections.csv": ["export_inspections", "--start", "2026-09-01", "--end", "2026-10-01"],
}
VOLATILE = {"inspections.csv": {"sampled_at"}}  # the moment the sample was drawn


def _stable(name: str, text: str) -> str:
    drop = VOLATILE.get(name)
    if not drop:
        return text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    keep = [i for i, column in enumerate(rows[0]) if column not in drop]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[row[i] for i in keep] for row in rows])
    return out.getvalue()


@pytest.mark.django_db
def test_contract_exports_on_the_pinned_demo_match_the_golden_files(tmp_path):
    # given: a demo company pinned by seed and anchor, September closed, its QA sample drawn
    call_command(
        "seed_demo", "--staff", "24", "--days", "40", "--seed", "7", "--anchor", "2026-10-01", stdout=io.StringIO()
    )
    call_command("qa_sample", "--start", "2026-09-01", "--end", "2026-10-01", stdout=io.StringIO())
    # when
    produced = {}
    for name, args in EXPORTS.items():
        path = tmp_path / name
        call_command(*args, "--output", str(path), stdout=io.StringIO())
        produced[name] = _stable(name, path.read_text(encoding="utf-8-sig"))
    produced["close_results.txt"] = "\n".join(close_snapshot(AppraisalCycle.objects.get(name=CYCLE))) + "\n"
    # then
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        for name, text in produced.items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
    for name, text in produced.items():
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), f"{name} differs from tests/golden/{name}"
