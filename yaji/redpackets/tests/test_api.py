from __future__ import annotations

import uuid

import pytest

from yaji.payments.tests.factories import Api
from yaji.redpackets.models import RedPacket
from yaji.redpackets.tests.factories import UserFactory, funded_user, reconcile_ok

pytestmark = pytest.mark.django_db


def post(api: Api, path: str, data: dict, key: str | None = None):  # type: ignore[no-untyped-def]
    return api.post_json(path, data, headers={"Idempotency-Key": key or uuid.uuid4().hex})


def test_send_grab_and_lists() -> None:
    sender = funded_user(10_000)
    api = Api(sender)
    missing = api.post_json("/red-packets", {"total_fen": 300, "count": 3})
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"

    sent = post(api, "/red-packets", {"total_fen": 300, "count": 3, "blessing": "恭喜发财"}, "k1")
    assert sent.status_code == 201, sent.content
    replay = post(api, "/red-packets", {"total_fen": 300, "count": 3, "blessing": "恭喜发财"}, "k1")
    assert replay.json() == sent.json() and RedPacket.objects.count() == 1
    packet_id = sent.json()["id"]

    fans = [Api(UserFactory()) for _ in range(3)]
    grabs = [post(fan, f"/red-packets/{packet_id}/claim", {}) for fan in fans]
    assert [g.status_code for g in grabs] == [200, 200, 200], grabs[0].content
    assert sum(g.json()["amount_fen"] for g in grabs) == 300
    assert grabs[-1].json()["finished"] is True and grabs[-1].json()["luckiest"]
    again = post(fans[0], f"/red-packets/{packet_id}/claim", {})
    assert again.status_code == 409 and again.json()["code"] == "packet_already_claimed"

    detail = fans[0].get(f"/red-packets/{packet_id}")
    assert detail.status_code == 200
    assert len(detail.json()["claims"]) == 3 and detail.json()["status"] == "finished"
    assert api.get("/me/red-packets/sent").json()[0]["id"] == packet_id
    received = fans[1].get("/me/red-packets/received").json()
    assert received[0]["packet_id"] == packet_id
    reconcile_ok()


def test_errors_are_stable_codes() -> None:
    api = Api(funded_user(100))
    too_small = post(api, "/red-packets", {"total_fen": 1, "count": 2})
    assert too_small.status_code == 400 and too_small.json()["code"] == "packet_amount_too_small"
    poor = post(api, "/red-packets", {"total_fen": 1_000, "count": 2})
    assert poor.status_code == 409 and poor.json()["code"] == "insufficient_funds"
    missing = post(api, "/red-packets/999999/claim", {})
    assert missing.status_code == 404 and missing.json()["code"] == "packet_not_found"
    assert not RedPacket.objects.exists()


def test_group_packet_visibility() -> None:
    api = Api(funded_user())
    sent = post(api, "/red-packets", {"total_fen": 200, "count": 2, "audience": "group"}).json()
    token = sent["invite_token"]
    assert token
    outsider = Api(UserFactory())
    hidden = outsider.get(f"/red-packets/{sent['id']}")
    assert hidden.status_code == 403 and hidden.json()["code"] == "packet_forbidden"
    shown = outsider.get(f"/red-packets/{sent['id']}?invite_token={token}")
    assert shown.status_code == 200 and shown.json()["invite_token"] is None
    refused = post(outsider, f"/red-packets/{sent['id']}/claim", {})
    assert refused.status_code == 403
    grabbed = post(outsider, f"/red-packets/{sent['id']}/claim", {"invite_token": token})
    assert grabbed.status_code == 200
    assert outsider.get(f"/red-packets/{sent['id']}").status_code == 200  # a claimer may look
    reconcile_ok()


def test_same_city_packet_over_the_api() -> None:
    api = Api(funded_user())
    sent = post(
        api,
        "/red-packets",
        {
            "total_fen": 200,
            "count": 2,
            "split_type": "equal",
            "audience": "city",
            "lat": 31.2304,
            "lng": 121.4737,
        },
    )
    assert sent.status_code == 201, sent.content
    assert sent.json()["radius_m"] == 5_000 and "geohash" not in sent.json()
    packet_id = sent.json()["id"]
    fan = Api(UserFactory())
    nowhere = post(fan, f"/red-packets/{packet_id}/claim", {})
    assert nowhere.status_code == 400 and nowhere.json()["code"] == "location_required"
    far = post(fan, f"/red-packets/{packet_id}/claim", {"lat": 39.9042, "lng": 116.4074})
    assert far.status_code == 403 and far.json()["code"] == "out_of_radius"
    near = post(fan, f"/red-packets/{packet_id}/claim", {"lat": 31.2350, "lng": 121.4800})
    assert near.status_code == 200 and near.json()["amount_fen"] == 100
    reconcile_ok()


def test_risk_limits_answer_with_stable_codes() -> None:
    api = Api(funded_user(1_000_000))  # not real-name verified: 200 yuan a packet at most
    over = post(api, "/red-packets", {"total_fen": 20_001, "count": 2})
    assert over.status_code == 403 and over.json()["code"] == "risk_denied"
    assert over.json()["extra"]["reasons"][0]["rule"] == "single_limit"
    ok = post(api, "/red-packets", {"total_fen": 20_000, "count": 2})
    assert ok.status_code == 201
