"""The API's documentation is served by the site itself (no CDN: this platform may run offline)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.django_db
def test_openapi_document_lists_the_versioned_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"].startswith("Yaji")
    assert "/api/v1/auth/login" in spec["paths"]
    assert "/api/v1/me" in spec["paths"]


@pytest.mark.django_db
def test_swagger_ui_loads_only_assets_served_by_the_site(client):
    page = client.get("/api/v1/docs").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets, "the docs page references its scripts and styles"
    assert all(not a.startswith(("http:", "https:", "//")) for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


@pytest.mark.django_db
def test_api_errors_share_one_body_and_follow_the_language(client):
    response = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert set(body) == {"code", "message", "extra"}
    assert body["message"].isascii()

    response = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"

    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
