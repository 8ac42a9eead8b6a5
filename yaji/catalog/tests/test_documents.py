"""Qualification documents: judged by their bytes, kept private, handed only to the applicant
and reviewers."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from yaji.catalog.errors import DocumentTooLarge, InvalidDocument, InvalidImage, TooManyDocuments
from yaji.catalog.models import ShopApplication, ShopDocument
from yaji.catalog.tests.factories import (
    EXE_BYTES,
    JPEG_BYTES,
    PNG_BYTES,
    application_submit,
    reviewer_user,
    upload,
    verified_user,
)
from yaji.catalog.uploads import DOCUMENT_MAX_BYTES, file_sniff, private_storage

pytestmark = pytest.mark.django_db


def _private_files() -> list[Path]:
    root = Path(private_storage.location)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_sniffer_knows_only_what_it_accepts() -> None:
    assert file_sniff(b"%PDF-1.7\n").content_type == "application/pdf"
    assert file_sniff(PNG_BYTES).content_type == "image/png"
    assert file_sniff(JPEG_BYTES).content_type == "image/jpeg"
    assert file_sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ").content_type == "image/webp"
    for junk in (EXE_BYTES, b"", b"<html><script>", b"GIF89a", b"PK\x03\x04"):
        assert file_sniff(junk) is None


def test_content_decides_not_the_name_or_the_client_type() -> None:
    # A ".pdf" that is really a PNG is stored and served as a PNG, under a name we chose.
    application = application_submit(
        verified_user(), documents=[upload("licence.pdf", PNG_BYTES, "application/pdf")]
    )
    document = application.documents.get()
    assert document.content_type == "image/png"
    assert document.original_name == "licence.pdf"
    assert document.file.name.endswith(".png") and "licence" not in document.file.name
    assert len(document.sha256) == 64


@pytest.mark.parametrize(
    "name, content, client_type",
    [
        ("setup.pdf", EXE_BYTES, "application/pdf"),
        ("scan.png", EXE_BYTES, "image/png"),
        ("page.pdf", b"<html><script>alert(1)</script>", "application/pdf"),
        ("photo.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),  # fine as a logo only
    ],
)
def test_anything_else_is_an_invalid_document(name: str, content: bytes, client_type: str) -> None:
    with pytest.raises(InvalidDocument) as caught:
        application_submit(verified_user(), documents=[upload(name, content, client_type)])
    assert caught.value.code == "invalid_document"
    assert caught.value.extra["name"] == name
    assert not ShopApplication.objects.exists()
    assert _private_files() == []


def test_size_and_count_limits() -> None:
    big = upload("big.pdf", b"%PDF-1.4\n" + b"0" * DOCUMENT_MAX_BYTES)
    with pytest.raises(DocumentTooLarge) as caught:
        application_submit(verified_user(), documents=[big])
    assert caught.value.code == "document_too_large" and caught.value.status == 413
    with pytest.raises(TooManyDocuments):
        application_submit(verified_user(), documents=[upload() for _ in range(7)])


def test_logo_must_be_an_image() -> None:
    with pytest.raises(InvalidImage):
        application_submit(verified_user(), logo=upload("logo.png", b"%PDF-1.4\n", "image/png"))
    application = application_submit(
        verified_user(), logo=upload("logo.jpg", JPEG_BYTES, "image/jpeg")
    )
    assert application.logo.name.startswith("shops/logos/") and application.logo.name.endswith(
        ".jpg"
    )


def test_a_failed_application_leaves_no_files(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from yaji.catalog import services

    def boom(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("outbox down")

    monkeypatch.setattr(services, "outbox_publish", boom)
    with pytest.raises(RuntimeError):
        application_submit(
            verified_user(),
            documents=[upload(), upload("b.png", PNG_BYTES)],
            logo=upload("logo.png", PNG_BYTES),
        )
    assert not ShopDocument.objects.exists() and not ShopApplication.objects.exists()
    assert _private_files() == []
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.png"))


def test_documents_are_kept_out_of_media_root() -> None:
    application = application_submit(verified_user())
    path = Path(private_storage.path(application.documents.get().file.name))
    assert path.exists()
    assert Path(settings.MEDIA_ROOT) not in path.parents


def _client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_download_only_for_applicant_and_reviewers() -> None:
    applicant = verified_user()
    application = application_submit(applicant, documents=[upload("执照.pdf")])
    url = f"/shops/documents/{application.documents.get().pk}/"

    mine = _client_for(applicant).get(url)
    assert mine.status_code == 200
    assert mine["Content-Type"] == "application/pdf"
    assert mine["Cache-Control"] == "private, no-store"
    assert mine["Content-Disposition"].startswith("attachment")
    assert "sandbox" in mine["Content-Security-Policy"]
    assert b"".join(mine.streaming_content).startswith(b"%PDF-")

    assert _client_for(reviewer_user()).get(url).status_code == 200
    image = application_submit(verified_user(), documents=[upload("scan.png", PNG_BYTES)])
    shown = _client_for(image.applicant).get(f"/shops/documents/{image.documents.get().pk}/")
    assert shown["Content-Type"] == "image/png" and shown["Content-Disposition"].startswith(
        "inline"
    )
    assert _client_for(verified_user()).get(url).status_code == 404
    assert _client_for(verified_user()).get("/shops/documents/999999/").status_code == 404

    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/account/login/" in anonymous["Location"]


def test_no_public_url_for_documents() -> None:
    application = application_submit(verified_user())
    with pytest.raises(ValueError):
        application.documents.get().file.url  # noqa: B018
