"""The permission matrix: documented as it is, and its rules as the docs say."""

from pathlib import Path

import pytest

from config import policy
from performance.common.authority import can
from tests.factories import StaffFactory, UserFactory

DOC = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"

pytestmark = pytest.mark.django_db


def test_docs_show_the_matrix_as_it_is():
    assert policy.matrix_table() in DOC.read_text(encoding="utf-8")


def test_every_role_and_condition_of_the_matrix_is_known():
    for perm, rule in policy.MATRIX.items():
        assert set(rule.who) <= set(policy.ROLES), perm
        assert set(rule.unless) <= set(policy.CONDITIONS), perm


def test_an_inactive_login_may_do_nothing_not_even_a_superuser():
    root = UserFactory(username="root", is_superuser=True, is_active=False)
    assert not any(can(root, perm) for perm in policy.MATRIX)


def test_own_and_reports_scopes_answer_per_object():
    boss = StaffFactory(employee_no="B", role="manager", user=UserFactory(username="b", groups=["Staff", "Manager"]))
    member = StaffFactory(employee_no="M", manager=boss)
    other = StaffFactory(employee_no="O")
    assert can(boss.user, "performance.rate_kci", member) and not can(boss.user, "performance.rate_kci", other)
    assert not can(boss.user, "performance.rate_kci")  # asked without an object: no
    assert can(member.user, "performance.dispute_inspection", None) is False
