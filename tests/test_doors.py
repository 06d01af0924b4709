"""Every door of the site, for every role, answers as the permission matrix says."""

import pytest
import rules

from config import policy
from tests.doors import ROLES, all_roles_exist, build_world, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return build_world()


@pytest.mark.parametrize("role", ROLES)
def test_every_door_answers_as_the_matrix_says(client, world, role):
    # given one of everything, and a login per role
    users, samples = world
    assert all_roles_exist()
    # when every URL, admin view and admin action is opened as the role
    problems = walk(client, users, samples, roles=[role])
    # then each answers as the matrix does, and each has a rule
    assert problems == []


@pytest.fixture
def matrix_without_approve():
    rule = policy.MATRIX.pop("commission.approve_payout")
    rules.remove_perm("commission.approve_payout")
    yield
    policy.MATRIX["commission.approve_payout"] = rule
    policy.install()


def test_a_door_whose_rule_is_removed_from_the_matrix_fails_the_walk(client, world, matrix_without_approve):
    # given the matrix without the rule of the payout admin's "approve" action
    users, samples = world
    # when the doors are walked as Finance
    problems = walk(client, users, samples, roles=["Finance"])
    # then the walk names the action whose rule is gone
    assert "admin action Payout.approve: the matrix has no rule commission.approve_payout" in problems
