"""Takedown notices: file with a certificate, counter-notice, decision; every step recorded."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from yaji.accounts.tests.factories import UserFactory
from yaji.catalog.models import Product
from yaji.catalog.tests.factories import product_listed, shop_open
from yaji.copyright import services, takedowns
from yaji.copyright.errors import (
    CertificateNotYours,
    CertificateRequired,
    InvalidCertificate,
    ListingNotFound,
    NoticeAlreadyOpen,
    NoticeNotFound,
    NoticeNotOpen,
)
from yaji.copyright.models import TakedownEvent, TakedownNotice
from yaji.copyright.tests.factories import creator, registered, reviewer
from yaji.copyright.tests.test_api_and_pages import Api
from yaji.core.outbox import outbox_relay_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():  # type: ignore[no-untyped-def]
    holder = creator()
    registration = registered(holder, seed=31)
    certificate = services.certificate_issue(registration=registration)
    shop = shop_open()
    product = product_listed(shop)
    return holder, certificate, shop, product


def test_the_whole_path_is_recorded_and_an_upheld_notice_delists(setup):  # type: ignore[no-untyped-def]
    holder, certificate, shop, product = setup
    notice = takedowns.takedown_file(
        complainant=holder,
        product_id=product.pk,
        certificate=certificate,
        statement="盗用了我的纹样",
    )
    assert notice.status == "filed"
    with pytest.raises(NoticeAlreadyOpen):
        takedowns.takedown_file(
            complainant=holder,
            product_id=product.pk,
            certificate=json.dumps(certificate),
            statement="再次",
        )
    with pytest.raises(NoticeNotFound):  # not the shop
        takedowns.takedown_counter(seller=UserFactory(), notice_id=notice.pk, statement="不是我")
    takedowns.takedown_counter(seller=shop.owner, notice_id=notice.pk, statement="图案是我原创的")
    staff = reviewer()
    takedowns.takedown_decide(
        reviewer=staff, notice_id=notice.pk, uphold=True, reason="与登记作品一致"
    )
    with pytest.raises(NoticeNotOpen):
        takedowns.takedown_decide(reviewer=staff, notice_id=notice.pk, uphold=False, reason="改判")
    assert outbox_relay_once() >= 1
    product.refresh_from_db()
    assert product.status == Product.Status.DELISTED
    assert list(TakedownEvent.objects.filter(notice=notice).values_list("kind", flat=True)) == [
        "filed",
        "countered",
        "upheld",
    ]
    assert takedowns.takedown_delist(notice_id=notice.pk) == "not_listed"  # redelivery: no-op


def test_a_rejected_notice_leaves_the_listing_alone(setup):  # type: ignore[no-untyped-def]
    holder, certificate, _shop, product = setup
    notice = takedowns.takedown_file(
        complainant=holder, product_id=product.pk, certificate=certificate, statement="相似"
    )
    takedowns.takedown_decide(
        reviewer=reviewer(), notice_id=notice.pk, uphold=False, reason="构图不同"
    )
    outbox_relay_once()
    product.refresh_from_db()
    assert product.status == Product.Status.LISTED


def test_bad_notices_record_nothing(setup):  # type: ignore[no-untyped-def]
    holder, certificate, _shop, product = setup
    with pytest.raises(CertificateRequired):
        takedowns.takedown_file(
            complainant=holder, product_id=product.pk, certificate=None, statement="x"
        )
    forged = json.loads(json.dumps(certificate))
    forged["entry"]["leaf"] = forged["entry"]["leaf"].replace("design", "image")
    with pytest.raises(InvalidCertificate):
        takedowns.takedown_file(
            complainant=holder, product_id=product.pk, certificate=forged, statement="x"
        )
    with pytest.raises(InvalidCertificate):
        takedowns.takedown_file(
            complainant=holder, product_id=product.pk, certificate="{junk", statement="x"
        )
    with pytest.raises(CertificateNotYours):  # someone else's certificate
        takedowns.takedown_file(
            complainant=creator(), product_id=product.pk, certificate=certificate, statement="x"
        )
    with pytest.raises(ListingNotFound):
        takedowns.takedown_file(
            complainant=holder, product_id=10**9, certificate=certificate, statement="x"
        )
    assert not TakedownNotice.objects.exists() and not TakedownEvent.objects.exists()


def test_the_api_path_and_its_permissions(setup):  # type: ignore[no-untyped-def]
    holder, certificate, shop, product = setup
    response = Api(holder).post(
        "/copyright/takedowns",
        {"product_id": product.pk, "certificate": certificate, "statement": "侵权"},
    )
    assert response.status_code == 201, response.content
    notice_id = response.json()["id"]
    assert Api(UserFactory()).get(f"/copyright/takedowns/{notice_id}").status_code == 404
    owner = Client()
    owner.force_login(shop.owner)
    assert Api(shop.owner).get(f"/copyright/takedowns/{notice_id}").json()["status"] == "filed"
    countered = Api(shop.owner).post(
        f"/copyright/takedowns/{notice_id}/counter", {"statement": "原创"}
    )
    assert countered.json()["status"] == "countered"
    assert (
        Api(holder)
        .post(f"/copyright/takedowns/{notice_id}/decision", {"uphold": True, "reason": "x"})
        .status_code
        == 403
    )
    decided = (
        Api(reviewer())
        .post(f"/copyright/takedowns/{notice_id}/decision", {"uphold": False, "reason": "证据不足"})
        .json()
    )
    assert decided["status"] == "rejected" and [e["kind"] for e in decided["events"]] == [
        "filed",
        "countered",
        "rejected",
    ]
    bad = Api(holder).post(
        "/copyright/takedowns", {"product_id": product.pk, "certificate": {}, "statement": "x"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "certificate_required"


def test_the_pages_walk_a_notice_through(setup):  # type: ignore[no-untyped-def]
    holder, certificate, shop, product = setup
    client = Client()
    client.force_login(holder)
    form = client.get(f"/copyright/takedowns/new/?product={product.pk}")
    assert form.status_code == 200 and str(product.pk) in form.content.decode()
    bad = client.post(
        "/copyright/takedowns/new/",
        {"product_id": product.pk, "certificate": "", "statement": "x"},
    )
    assert bad.status_code == 422 and 'data-testid="takedown-error"' in bad.content.decode()
    response = client.post(
        "/copyright/takedowns/new/",
        {"product_id": product.pk, "certificate": json.dumps(certificate), "statement": "盗用纹样"},
    )
    notice = TakedownNotice.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/copyright/takedowns/{notice.pk}/"
    )

    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(f"/copyright/takedowns/{notice.pk}/").status_code == 404

    seller = Client()
    seller.force_login(shop.owner)
    assert 'data-testid="takedown-row"' in seller.get("/copyright/takedowns/").content.decode()
    seller.post(
        f"/copyright/takedowns/{notice.pk}/", {"action": "counter", "statement": "原创设计"}
    )
    staff = Client()
    staff.force_login(reviewer())
    assert 'data-testid="takedown-queue"' in staff.get("/copyright/takedowns/").content.decode()
    staff.post(f"/copyright/takedowns/{notice.pk}/", {"action": "reject", "reason": "不构成侵权"})
    page = client.get(f"/copyright/takedowns/{notice.pk}/").content.decode()
    assert "原创设计" in page and "不构成侵权" in page
    notice.refresh_from_db()
    assert notice.status == "rejected"
