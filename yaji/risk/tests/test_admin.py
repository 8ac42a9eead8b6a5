from __future__ import annotations

import pytest
from django.test import Client

from yaji.accounts.models import User
from yaji.accounts.tests.factories import UserFactory
from yaji.risk.models import ReviewStatus, RiskReview, RiskRule
from yaji.risk.services import risk_activity_record, risk_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_() -> Client:
    boss = User.objects.create_superuser(email="boss@example.com", password="x-Yaji-2026!")
    client = Client()
    client.force_login(boss)
    return client


@pytest.mark.parametrize(
    "model", ["riskrule", "riskdecision", "riskactivity", "blacklistentry", "riskreview"]
)
def test_changelists_render(admin_client_: Client, model: str) -> None:
    assert admin_client_.get(f"/admin/risk/{model}/").status_code == 200


def test_operator_tunes_a_rule_and_releases_a_review(admin_client_: Client) -> None:
    rule = RiskRule.objects.get(code="single_limit")
    page = admin_client_.get(f"/admin/risk/riskrule/{rule.pk}/change/")
    assert page.status_code == 200
    mule = UserFactory()
    risk_activity_record(user=mule, action="redpacket.claim", amount_fen=20_000)
    with pytest.raises(Exception):  # noqa: B017 - account_frozen
        risk_check(user=mule, action="gift.send", amount_fen=20_000)
    review = RiskReview.objects.get(user=mule)
    response = admin_client_.post(
        "/admin/risk/riskreview/",
        {"action": "decide_released", "_selected_action": [review.pk]},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == ReviewStatus.RELEASED and review.reviewed_by is not None
