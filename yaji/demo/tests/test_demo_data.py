from __future__ import annotations

import pytest
from django.core.management import call_command

from yaji.accounts.models import Role
from yaji.accounts.selectors import kyc_status, user_by_identifier, user_is_minor, user_roles
from yaji.demo.world import DEMO_PASSWORD, OPERATOR_EMAIL, demo_people

pytestmark = pytest.mark.django_db


def test_demo_people_are_deterministic():
    assert demo_people(buyers=6, minors=2) == demo_people(buyers=6, minors=2)


def test_demo_data_builds_every_role_with_real_name_checks_and_minors():
    # given an empty database, when the demo world is built (twice: it must be re-runnable)
    call_command("demo_data", buyers=6, minors=2, quiet=True)
    call_command("demo_data", buyers=6, minors=2, quiet=True)

    people = demo_people(buyers=6, minors=2)
    users = [user_by_identifier(identifier=p.email) for p in people]
    assert all(users), "every demo person has an account"
    roles = {a.role for u in users for a in user_roles(user=u)}
    assert {
        Role.OPERATOR,
        Role.REVIEWER,
        Role.FINANCE,
        Role.CREATOR,
        Role.SUPPLIER,
        Role.BUYER,
    } <= roles
    assert all(kyc_status(user=u).status == "verified" for u in users)
    assert sum(bool(user_is_minor(u)) for u in users) == 2

    operator = user_by_identifier(identifier=OPERATOR_EMAIL)
    assert operator.is_superuser and operator.check_password(DEMO_PASSWORD)
