from __future__ import annotations

import pytest
from django.test import Client

from yaji.accounts.models import User
from yaji.redpackets.services import red_packet_send
from yaji.redpackets.tests.factories import funded_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", ["gift", "partnersplit", "rightsholder", "worklicense", "giftsend", "redpacket"]
)
def test_changelists_render(model: str) -> None:
    red_packet_send(sender=funded_user(), total_fen=100, count=1, split_type="equal")
    client = Client()
    client.force_login(User.objects.create_superuser(email="b@example.com", password="x-Y-2026!"))
    response = client.get(f"/admin/redpackets/{model}/")
    assert response.status_code == 200
    if model == "gift":
        assert "redpackets/gifts/rose" in response.content.decode()
