from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from django.test import Client

from yaji.core.observability import JsonFormatter, RequestContextFilter, request_id_var


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """A handler configured like production's (JSON formatter + request-context filter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("yaji")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def counter_value(text: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    match = re.search(rf"^yaji_http_requests_total\{{{re.escape(wanted)}\}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


@pytest.mark.django_db
def test_access_log_is_json_with_the_request_id(json_log: io.StringIO) -> None:
    response = Client().get("/readyz", HTTP_X_REQUEST_ID="req-abc.123")

    assert response["X-Request-ID"] == "req-abc.123"
    access = [entry for entry in lines(json_log) if entry["logger"] == "yaji.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "req-abc.123"
    assert access[0]["message"] == "GET /readyz 200"
    assert access[0]["status"] == 200
    assert isinstance(access[0]["duration_ms"], float)


def test_log_records_inside_a_request_carry_its_id(json_log: io.StringIO) -> None:
    token = request_id_var.set("inside-1")
    try:
        logging.getLogger("yaji.test").info("hello %s", "世界", extra={"order": 7})
    finally:
        request_id_var.reset(token)
    logging.getLogger("yaji.test").info("outside")

    inside, outside = lines(json_log)
    assert inside["request_id"] == "inside-1"
    assert inside["message"] == "hello 世界"
    assert inside["order"] == 7
    assert outside["request_id"] == "-"


def test_an_unsafe_request_id_is_replaced(json_log: io.StringIO) -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_metrics_count_requests_by_route_pattern_not_raw_path() -> None:
    client = Client()
    before = client.get("/metrics").content.decode()
    client.get("/healthz")
    client.get("/healthz")
    client.get("/api/v1/platform")
    client.get("/no/such/page-12345")
    after = client.get("/metrics")

    assert after["Content-Type"].startswith("text/plain")
    text = after.content.decode()
    for labels, increase in [
        ({"method": "GET", "route": "healthz", "status": "200"}, 2),
        ({"method": "GET", "route": "api/v1/platform", "status": "200"}, 1),
    ]:
        assert counter_value(text, **labels) - counter_value(before, **labels) == increase
    assert "page-12345" not in text  # raw paths never become labels
    assert "yaji_http_request_duration_seconds_bucket" in text


@pytest.mark.django_db
def test_readyz_is_ok_when_migrated_and_healthz_always() -> None:
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["migrations"] == {"ok": True, "pending_count": 0, "pending": []}
