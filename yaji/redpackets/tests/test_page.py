from __future__ import annotations

import pytest
from django.test import Client

from yaji.redpackets.services import red_packet_send
from yaji.redpackets.tests.factories import UserFactory, funded_user, reconcile_ok

pytestmark = pytest.mark.django_db


def test_page_shows_packet_and_grab_by_htmx() -> None:
    packet = red_packet_send(
        sender=funded_user(), total_fen=200, count=1, split_type="lucky", blessing="新年快乐"
    )
    anonymous = Client().get(f"/red-packets/{packet.pk}/")
    assert anonymous.status_code == 200
    assert "新年快乐" in anonymous.content.decode()

    client = Client()
    client.force_login(UserFactory(display_name="小明"))
    grabbed = client.post(f"/red-packets/{packet.pk}/grab/", HTTP_HX_REQUEST="true")
    assert grabbed.status_code == 200
    body = grabbed.content.decode()
    assert "小明" in body and 'id="red-packet"' in body
    again = client.post(f"/red-packets/{packet.pk}/grab/", HTTP_HX_REQUEST="true")
    assert again.status_code == 200
    reconcile_ok()


def test_group_page_needs_token() -> None:
    packet = red_packet_send(
        sender=funded_user(), total_fen=200, count=2, split_type="equal", audience="group"
    )
    assert Client().get(f"/red-packets/{packet.pk}/").status_code == 404
    assert Client().get(f"/red-packets/{packet.pk}/?t={packet.invite_token}").status_code == 200


def test_english_page() -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=200, count=2, split_type="equal")
    client = Client(headers={"accept-language": "en"})
    response = client.get(f"/red-packets/{packet.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Claims" in body and "Wishing you prosperity" in body, body[-1500:]
