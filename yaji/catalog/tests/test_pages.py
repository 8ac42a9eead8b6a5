"""The shop pages through the site: apply with an upload, review, public pages, creator bio."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.catalog.models import Shop, ShopApplication
from yaji.catalog.tests.factories import (
    EXE_BYTES,
    UserFactory,
    application_submit,
    reviewer_user,
    shop_open,
    upload,
    verified_user,
)

pytestmark = pytest.mark.django_db


def _as(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _form(**overrides):  # type: ignore[no-untyped-def]
    data = {
        "name_zh": "江南织造博物馆文创",
        "name_en": "Jiangnan Weaving Museum",
        "slug": "jiangnan-museum",
        "shop_type": "museum",
        "region": "江苏 · 南京",
        "story_zh": "馆藏云锦纹样授权文创。",
        "story_en": "",
        "documents": [upload("授权书.pdf")],
    }
    data.update(overrides)
    return data


def test_apply_page_flow_and_status() -> None:
    client = _as(verified_user())
    page = client.get("/shops/apply/")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()

    bad = client.post("/shops/apply/", _form(documents=[upload("setup.pdf", EXE_BYTES)]))
    assert bad.status_code == 200
    assert "资质文件只接受 PDF、JPEG 或 PNG。" in bad.content.decode()
    assert not ShopApplication.objects.exists()

    sent = client.post("/shops/apply/", _form())
    assert sent.status_code == 302 and sent["Location"] == "/shops/mine/"
    status = client.get("/shops/mine/").content.decode()
    assert "正在审核" in status and "授权书.pdf" in status
    # With an application open, the form is not offered again.
    assert client.get("/shops/apply/")["Location"] == "/shops/mine/"


def test_apply_page_asks_for_kyc_first() -> None:
    html = _as(UserFactory()).get("/shops/apply/").content.decode()
    assert "开店前请先完成实名认证" in html and "/account/kyc/" in html
    assert Client().get("/shops/apply/").status_code == 302  # anonymous → login


def test_reviewer_pages_approve_and_reject() -> None:
    reviewer = _as(reviewer_user())
    first = application_submit(verified_user(), slug="first-shop", name_zh="第一家")
    second = application_submit(verified_user(), slug="second-shop", name_zh="第二家")

    queue = reviewer.get("/review/shops/").content.decode()
    assert queue.index("第一家") < queue.index("第二家")
    detail = reviewer.get(f"/review/shops/{first.pk}/").content.decode()
    assert f"/shops/documents/{first.documents.get().pk}/" in detail

    approved = reviewer.post(f"/review/shops/{first.pk}/", {"decision": "approve"})
    assert approved.status_code == 302
    assert Shop.objects.filter(slug="first-shop", status="active").exists()

    no_reason = reviewer.post(f"/review/shops/{second.pk}/", {"decision": "reject", "reason": ""})
    assert no_reason.status_code == 200
    reviewer.post(f"/review/shops/{second.pk}/", {"decision": "reject", "reason": "缺少授权"})
    second.refresh_from_db()
    assert second.status == "rejected" and second.reject_reason == "缺少授权"

    applicant_page = _as(second.applicant).get("/shops/apply/").content.decode()
    assert "上次申请未通过" in applicant_page and "缺少授权" in applicant_page
    assert 'value="second-shop"' in applicant_page  # the form starts from the last attempt


def test_review_pages_are_404_for_non_reviewers() -> None:
    application = application_submit(verified_user())
    other = _as(verified_user())
    assert other.get("/review/shops/").status_code == 404
    assert other.get(f"/review/shops/{application.pk}/").status_code == 404
    assert (
        other.post(f"/review/shops/{application.pk}/", {"decision": "approve"}).status_code == 404
    )
    assert not Shop.objects.exists()


def test_public_shop_list_and_page() -> None:
    shop_open(slug="silver-miao", name_zh="阿朵银饰", shop_type="heritage_workshop")
    shop_open(slug="yunwen", name_zh="云纹", shop_type="brand")
    client = Client()
    listing = client.get("/shops/").content.decode()
    assert "阿朵银饰" in listing and "云纹" in listing
    filtered = client.get("/shops/?type=brand").content.decode()
    assert "云纹" in filtered and "阿朵银饰" not in filtered
    assert client.get("/shops/silver-miao/").status_code == 200
    assert client.get("/shops/no-such-shop/").status_code == 404


def test_shop_page_in_english() -> None:
    shop_open(slug="ink-en", name_zh="墨香", name_en="Ink Fragrance", story_en="Silk and ink.")
    client = Client(headers={"Accept-Language": "en"})
    html = client.get("/shops/ink-en/").content.decode()
    assert "Ink Fragrance" in html and "Silk and ink." in html


def test_creator_edits_their_bio() -> None:
    owner = verified_user(display_name="沈墨")
    shop_open(owner=owner, slug="shen-mo")
    client = _as(owner)
    assert client.get("/creators/me/").status_code == 200
    saved = client.post("/creators/me/", {"bio": "把宋代美学做进日常器物。", "bio_en": ""})
    assert saved.status_code == 302
    assert "把宋代美学做进日常器物。" in Client().get(f"/creators/{owner.pk}/").content.decode()
