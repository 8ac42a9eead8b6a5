"""Audiences: same city (geohash cell + radius) and the sender's followers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yaji.community.services import follow_add
from yaji.core.errors import ApplicationError
from yaji.redpackets.geo import distance_m, geohash_decode, geohash_encode, within_radius
from yaji.redpackets.models import RedPacket, RedPacketClaim
from yaji.redpackets.services import red_packet_claim, red_packet_send
from yaji.redpackets.tests.factories import UserFactory, funded_user, reconcile_ok

pytestmark = pytest.mark.django_db

PEOPLES_SQUARE = (31.2304, 121.4737)  # Shanghai


def code_of(fn, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ApplicationError) as err:
        fn(**kw)
    return err.value.code


@pytest.mark.django_db(transaction=False)
@given(
    lat=st.floats(min_value=-89.9, max_value=89.9),
    lng=st.floats(min_value=-179.9, max_value=179.9),
)
def test_geohash_cell_contains_the_point(lat: float, lng: float) -> None:
    cell = geohash_encode(lat, lng)
    assert len(cell) == 7
    centre = geohash_decode(cell)
    assert distance_m(lat, lng, *centre) < 110  # half-diagonal of a precision-7 cell


def test_known_geohash() -> None:
    assert geohash_encode(57.64911, 10.40744, 11) == "u4pruydqqvj"


def test_city_packet_radius() -> None:
    lat, lng = PEOPLES_SQUARE
    packet = red_packet_send(
        sender=funded_user(),
        total_fen=300,
        count=3,
        split_type="equal",
        audience="city",
        lat=lat,
        lng=lng,
        radius_m=3_000,
    )
    assert packet.geohash == geohash_encode(lat, lng) and packet.radius_m == 3_000
    near, far, nowhere = UserFactory(), UserFactory(), UserFactory()
    # The Bund is ~1.5 km away; Pudong airport ~35 km.
    assert red_packet_claim(packet_id=packet.pk, user=near, lat=31.2400, lng=121.4900)
    assert code_of(red_packet_claim, packet_id=packet.pk, user=far, lat=31.1443, lng=121.8083) == (
        "out_of_radius"
    )
    assert code_of(red_packet_claim, packet_id=packet.pk, user=nowhere) == "location_required"
    assert (
        code_of(red_packet_claim, packet_id=packet.pk, user=nowhere, lat="x", lng=1)
        == "location_invalid"
    )
    assert RedPacketClaim.objects.filter(packet=packet).count() == 1
    assert within_radius(packet.geohash, 3_000, 31.2304 + 0.02, 121.4737)  # ~2.2 km north
    reconcile_ok()


def test_city_radius_bounds() -> None:
    sender = funded_user()
    for radius in (499, 50_001):
        assert (
            code_of(
                red_packet_send,
                sender=sender,
                total_fen=100,
                count=1,
                split_type="equal",
                audience="city",
                lat=31.0,
                lng=121.0,
                radius_m=radius,
            )
            == "packet_invalid"
        )
    assert not RedPacket.objects.exists()


def test_followers_packet() -> None:
    sender = funded_user()
    fan, stranger = UserFactory(), UserFactory()
    follow_add(follower=fan, followee_id=sender.pk)
    packet = red_packet_send(
        sender=sender, total_fen=200, count=2, split_type="equal", audience="followers"
    )
    assert code_of(red_packet_claim, packet_id=packet.pk, user=stranger) == "followers_only"
    assert red_packet_claim(packet_id=packet.pk, user=fan).amount_fen == 100
    assert red_packet_claim(packet_id=packet.pk, user=sender).amount_fen == 100
    reconcile_ok()
