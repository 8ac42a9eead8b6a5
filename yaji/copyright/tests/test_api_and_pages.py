"""The copyright API and pages: proofs over HTTP, registrations, certificates, verification,
the review queue's permissions."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from yaji.accounts.tests.factories import PASSWORD, UserFactory
from yaji.copyright import merkle, services, signing
from yaji.copyright.log_keys import log_public_key
from yaji.copyright.models import DuplicateCase, LogEntry, Registration
from yaji.copyright.tests.factories import creator, design_work, registered, reviewer

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

    def post(self, path: str, data: Any = None, **headers: str) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            data or {},
            content_type="application/json",
            headers={**self.headers, **headers},
        )

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers)


def test_register_over_the_api_then_fetch_proofs_that_verify():
    author = creator()
    api = Api(author)
    ids = []
    for seed in range(3):
        work = design_work(author, seed=seed)
        response = api.post(
            "/copyright/registrations", {"work_id": work.pk}, **{"Idempotency-Key": f"k{seed}"}
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "registered" and body["index"] == seed
        ids.append(body["id"])
    # replay: same key, same body → same answer, nothing new
    again = api.post("/copyright/registrations", {"work_id": work.pk}, **{"Idempotency-Key": "k2"})
    assert again.status_code == 201 and again.json()["id"] == ids[2]
    assert LogEntry.objects.count() == 3

    public = Api()
    key = public.get("/copyright/log/key").json()
    assert signing.unb64(key["public_key"]) == log_public_key()
    assert public.get("/copyright/log/checkpoint").json()["code"] == "log_empty"
    cert = public.get(f"/copyright/registrations/{ids[1]}/certificate").json()  # signs one
    checkpoint = public.get("/copyright/log/checkpoint").json()
    assert checkpoint["tree_size"] == 3
    root = bytes.fromhex(checkpoint["root_hash"])
    for index in range(3):
        entry = public.get(f"/copyright/log/entries/{index}").json()
        proof = public.get(f"/copyright/log/proofs/inclusion?index={index}&tree_size=3").json()
        assert merkle.verify_inclusion(
            merkle.leaf_hash(entry["leaf"].encode()),
            index,
            3,
            [signing.unb64(h) for h in proof["hashes"]],
            root,
        )
    consistency = public.get("/copyright/log/proofs/consistency?first=1&second=3").json()
    first_root = merkle.leaf_hash(public.get("/copyright/log/entries/0").json()["leaf"].encode())
    assert merkle.verify_consistency(
        1, 3, first_root, root, [signing.unb64(h) for h in consistency["hashes"]]
    )
    verdict = public.post("/copyright/certificates/verify", {"certificate": cert}).json()
    assert verdict["valid"] is True and verdict["index"] == 1
    cert["entry"]["leaf"] = cert["entry"]["leaf"].replace("design", "image")
    verdict = public.post("/copyright/certificates/verify", {"certificate": cert}).json()
    assert verdict == {**verdict, "valid": False, "code": "not_included"}


def test_bad_requests_get_stable_codes():
    author, other = creator(), creator()
    work = design_work(author, seed=1)
    services.work_register(user=author, work_id=work.pk)
    api = Api(other)
    assert (
        api.post("/copyright/registrations", {"work_id": work.pk}).json()["code"]
        == "work_not_registrable"
    )
    assert (
        Api(author).post("/copyright/registrations", {"work_id": work.pk}).json()["code"]
        == "already_registered"
    )
    assert Api().post("/copyright/registrations", {"work_id": work.pk}).status_code == 401
    public = Api()
    for path in (
        "/copyright/log/proofs/inclusion?index=1&tree_size=1",
        "/copyright/log/proofs/inclusion?index=0&tree_size=5",
        "/copyright/log/proofs/consistency?first=2&second=1",
    ):
        response = public.get(path)
        assert response.status_code == 422 and response.json()["code"] == "proof_unavailable", path
    assert public.get("/copyright/log/entries/7").json()["code"] == "proof_unavailable"
    assert public.get("/copyright/registrations/999999/certificate").status_code == 404
    assert api.get("/copyright/cases").status_code == 403
    assert api.post("/copyright/log/checkpoints").status_code == 403
    assert Api(reviewer()).post("/copyright/log/checkpoints").status_code == 201


def test_my_page_registers_a_work_and_shows_the_certificate():
    author = creator()
    work = design_work(author, seed=8)
    client = Client()
    client.force_login(author)
    page = client.get("/copyright/")
    assert page.status_code == 200 and work.title in page.content.decode()
    response = client.post("/copyright/", {"work_id": work.pk})
    registration = Registration.objects.get(work=work)
    assert (
        response.status_code == 302
        and response["Location"] == f"/copyright/certificates/{registration.pk}/"
    )
    page = Client().get(response["Location"])  # certificates are public
    assert page.status_code == 200
    html = page.content.decode()
    assert registration.content_sha256 in html and "did:key:z6Mk" in html

    png = Client().get(f"/copyright/certificates/{registration.pk}.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size[0] == 1240
    download = Client().get(f"/copyright/certificates/{registration.pk}.json")
    document = json.loads(download.content)
    assert document["entry"]["index"] == 0

    # the verification page: good, then tampered, then garbage
    ok = Client().post("/copyright/verify/", {"certificate": download.content.decode()})
    assert ok.status_code == 200 and 'data-testid="verdict-ok"' in ok.content.decode()
    document["checkpoint"]["signature"] = signing.b64(bytes(64))
    bad = Client().post("/copyright/verify/", {"certificate": json.dumps(document)})
    assert bad.status_code == 422 and 'data-testid="verdict-bad"' in bad.content.decode()
    junk = Client().post("/copyright/verify/", {"certificate": "{not json"})
    assert junk.status_code == 422


def test_the_qr_code_carries_the_whole_certificate():
    from yaji.copyright.certificates import certificate_json, qr_matrix

    registration = registered(creator(), seed=2)
    document = services.certificate_issue(registration=registration)
    matrix = qr_matrix(certificate_json(document, compact=True))
    assert 21 <= len(matrix) <= 177  # a standard QR version holds it


def test_the_log_page_publishes_the_key():
    html = Client().get("/copyright/log/").content.decode()
    assert signing.b64(log_public_key()) in html
    assert Client().get("/copyright/log/key").content.decode().strip() == signing.b64(
        log_public_key()
    )


def test_the_review_pages_are_for_reviewers_only_and_decide_cases():
    registered(creator(), seed=4)
    thief = creator()
    copy = design_work(thief, seed=4, variant="jpeg_q40")
    held = services.work_register(user=thief, work_id=copy.pk)
    case = DuplicateCase.objects.get(registration=held)

    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get("/copyright/review/").status_code == 404
    assert stranger.get(f"/copyright/review/{case.pk}/").status_code == 404

    staff = Client()
    staff.force_login(reviewer())
    queue = staff.get("/copyright/review/").content.decode()
    assert 'data-testid="case-row"' in queue
    page = staff.get(f"/copyright/review/{case.pk}/").content.decode()
    assert 'data-testid="side-by-side"' in page and copy.media.url in page
    # upholding needs a reason
    staff.post(f"/copyright/review/{case.pk}/", {"verdict": "infringing", "reason": ""})
    case.refresh_from_db()
    assert case.status == "open"
    staff.post(f"/copyright/review/{case.pk}/", {"verdict": "clear"})
    held.refresh_from_db()
    assert held.status == "registered"
