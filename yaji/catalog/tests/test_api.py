"""The shops API: multipart onboarding, review endpoints, public list with a cursor, error codes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yaji.catalog.models import Shop, ShopApplication
from yaji.catalog.tests.factories import (
    EXE_BYTES,
    PASSWORD,
    PNG_BYTES,
    UserFactory,
    reviewer_user,
    shop_open,
    upload,
    verified_user,
)
from yaji.catalog.uploads import DOCUMENT_MAX_BYTES

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, user: Any = None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if user is not None:
            response = self.client.post(
                "/api/v1/auth/login",
                {"identifier": user.email, "password": PASSWORD, "device_id": "t-1"},
                content_type="application/json",
            )
            assert response.status_code == 200, response.content
            self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kw)

    def post_json(self, path: str, data: dict | None = None, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.client.post(
            f"/api/v1{path}", data or {}, content_type="application/json", headers=headers
        )

    def apply(self, headers: dict[str, str] | None = None, **fields: Any) -> Any:
        data: dict[str, Any] = {
            "name_zh": "云纹工作室",
            "name_en": "Yunwen Studio",
            "slug": "yunwen",
            "shop_type": "studio",
            "story_zh": "祥云与海水纹的当代演绎。",
            "region": "广东 · 广州",
            "documents": [upload()],
        }
        data.update(fields)
        return self.client.post(
            "/api/v1/shop-applications", data, headers={**self.headers, **(headers or {})}
        )


def test_apply_review_and_read_through_the_api() -> None:
    applicant = verified_user()
    me = Api(applicant)
    created = me.apply(documents=[upload(), upload("scan.png", PNG_BYTES, "image/png")])
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "submitted" and body["slug"] == "yunwen"
    assert [d["content_type"] for d in body["documents"]] == ["application/pdf", "image/png"]
    assert body["documents"][0]["download_url"].startswith("/shops/documents/")

    mine = me.get("/shop-applications/mine")
    assert [a["id"] for a in mine.json()] == [body["id"]]

    reviewer = Api(reviewer_user())
    queue = reviewer.get("/review/shop-applications")
    assert queue.status_code == 200
    assert [(a["id"], a["applicant"]["id"]) for a in queue.json()] == [(body["id"], applicant.pk)]

    approved = reviewer.post_json(f"/review/shop-applications/{body['id']}/approve")
    assert approved.status_code == 200, approved.content
    shop = approved.json()
    assert shop["slug"] == "yunwen" and shop["owner"]["id"] == applicant.pk
    assert shop["shop_type_label"] == "工作室" and shop["url"] == "/shops/yunwen/"

    public = Api().get("/shops/yunwen")
    assert public.status_code == 200 and public.json()["name_en"] == "Yunwen Studio"
    again = reviewer.post_json(f"/review/shop-applications/{body['id']}/approve")
    assert again.status_code == 409 and again.json()["code"] == "shop_application_not_open"


def test_reject_through_the_api() -> None:
    me = Api(verified_user())
    application_id = me.apply().json()["id"]
    reviewer = Api(reviewer_user())
    empty = reviewer.post_json(f"/review/shop-applications/{application_id}/reject", {"reason": ""})
    assert empty.status_code == 422
    rejected = reviewer.post_json(
        f"/review/shop-applications/{application_id}/reject", {"reason": "缺少品牌授权书"}
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert me.get("/shop-applications/mine").json()[0]["reject_reason"] == "缺少品牌授权书"
    assert me.apply().status_code == 201  # resubmission


@pytest.mark.parametrize(
    "fields, status, code",
    [
        ({"slug": "Bad Slug!"}, 422, "invalid_slug"),
        ({"slug": "apply"}, 422, "invalid_slug"),
        ({"shop_type": "casino"}, 422, "validation_error"),
        ({"documents": [upload("setup.pdf", EXE_BYTES)]}, 422, "invalid_document"),
        (
            {"documents": [upload("big.pdf", b"%PDF-" + b"0" * DOCUMENT_MAX_BYTES)]},
            413,
            "document_too_large",
        ),
        ({"logo": upload("logo.png", EXE_BYTES, "image/png")}, 422, "invalid_image"),
        ({"name_zh": ""}, 422, "validation_error"),
    ],
)
def test_bad_applications_get_stable_codes(fields: dict, status: int, code: str) -> None:
    response = Api(verified_user()).apply(**fields)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not ShopApplication.objects.exists()


def test_missing_documents_is_a_validation_error() -> None:
    me = Api(verified_user())
    response = me.client.post(
        "/api/v1/shop-applications",
        {"name_zh": "店", "slug": "no-docs", "shop_type": "brand"},
        headers=me.headers,
    )
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_slug_taken_kyc_required_and_one_open() -> None:
    shop_open(slug="taken")
    me = Api(verified_user())
    taken = me.apply(slug="taken")
    assert taken.status_code == 409 and taken.json()["code"] == "shop_slug_taken"
    assert me.apply(slug="free-one").status_code == 201
    second = me.apply(slug="free-two")
    assert second.status_code == 409 and second.json()["code"] == "shop_application_open"

    unverified = Api(UserFactory()).apply(slug="free-three")
    assert unverified.status_code == 403 and unverified.json()["code"] == "kyc_required"
    anonymous = Api().apply(slug="free-four")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"


def test_reviewer_endpoints_refuse_everyone_else() -> None:
    application = ShopApplication.objects.get(pk=Api(verified_user()).apply().json()["id"])
    other = Api(verified_user())
    assert other.get("/review/shop-applications").status_code == 403
    response = other.post_json(f"/review/shop-applications/{application.pk}/approve")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    rejected = other.post_json(
        f"/review/shop-applications/{application.pk}/reject", {"reason": "x"}
    )
    assert rejected.status_code == 403
    missing = Api(reviewer_user()).post_json("/review/shop-applications/987654/approve")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert Api().get("/review/shop-applications").status_code == 401
    application.refresh_from_db()
    assert application.status == "submitted" and not Shop.objects.exists()


def test_apply_is_idempotent_under_retry() -> None:
    me = Api(verified_user())
    key = {"Idempotency-Key": "apply-7f3c"}
    first = me.apply(headers=key, documents=[upload()])
    retry = me.apply(headers=key, documents=[upload()])
    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert ShopApplication.objects.count() == 1
    changed = me.apply(headers=key, slug="something-else")
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"


def test_shop_list_pages_by_cursor() -> None:
    reviewer = reviewer_user()
    shops = [shop_open(reviewer=reviewer, slug=f"shop-{i:02d}") for i in range(5)]
    api = Api()
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/shops", data=query).json()
        seen += [item["slug"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [s.slug for s in reversed(shops)]
    museum = api.get("/shops", data={"shop_type": "museum"}).json()
    assert museum["items"] == []
    for cursor in ("!!!", "czk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "eA", "é"):
        bad = api.get("/shops", data={"cursor": cursor})
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor", cursor
    assert api.get("/shops/no-such-shop").status_code == 404
    assert api.get("/shops/bad%00slug").status_code == 404


def test_shop_list_queries_do_not_grow_with_page_size() -> None:
    reviewer = reviewer_user()
    for i in range(12):
        shop_open(reviewer=reviewer, slug=f"q-shop-{i:02d}")
    api = Api()

    def count(limit: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/shops", data={"limit": limit})
        assert response.status_code == 200
        assert len(response.json()["items"]) == limit
        return len(queries)

    assert count(2) == count(12) <= 2
