"""Product video, 3D models and digital downloads: validation by bytes, storage, serving with
the product's visibility, signed expiring download links."""

from __future__ import annotations

import json
import struct
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import signing
from django.test import Client

from yaji.catalog import media, services
from yaji.catalog.errors import (
    DigitalFileMissing,
    DownloadFileTooLarge,
    DownloadLimitReached,
    DownloadLinkExpired,
    DownloadLinkInvalid,
    InvalidDownloadFile,
    InvalidModel3D,
    InvalidVideo,
    Model3DTooLarge,
    NotDigitalProduct,
    NotFound,
    ProductIncomplete,
    ProductNotEditable,
    ValidationFailed,
    VideoTooLarge,
)
from yaji.catalog.glb import glb_pack, glb_triangle, glb_vase
from yaji.catalog.models import DigitalFile, DownloadGrant, ProductModel3D, ProductVideo
from yaji.catalog.tests.factories import (
    EXE_BYTES,
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    UserFactory,
    digital_product_make,
    file_upload,
    mp4_bytes,
    product_listed,
    product_make,
    reviewer_user,
    shop_open,
    webm_bytes,
)
from yaji.core import clock

pytestmark = pytest.mark.django_db


def _files(root: str) -> list[Path]:
    path = Path(root)
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


# --- validation (no database) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(mp4_bytes(), "video/mp4"), (mp4_bytes(b"mp42"), "video/mp4"), (webm_bytes(), "video/webm")],
)
def test_video_accepted_by_structure(content: bytes, content_type: str) -> None:
    checked = media.video_check(file_upload("clip.bin", content))
    assert checked.content_type == content_type and checked.size == len(content)


@pytest.mark.parametrize(
    "content",
    [
        EXE_BYTES,
        PNG_BYTES,
        mp4_bytes(b"heic"),  # an image in an ISO box
        mp4_bytes(b"qt  "),  # QuickTime: not playable everywhere
        mp4_bytes(moov=False),  # no movie
        mp4_bytes()[:-10],  # box sizes do not add up
        webm_bytes(b"matroska"),
        webm_bytes()[:20],
        b"\x00\x00\x00\x18ftypisom" + b"\xff" * 8,
    ],
)
def test_video_refused(content: bytes) -> None:
    with pytest.raises(InvalidVideo):
        media.video_check(file_upload("clip.mp4", content, "video/mp4"))


def test_video_size_limit(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(media, "VIDEO_MAX_BYTES", 100)
    with pytest.raises(VideoTooLarge) as exc_info:
        media.video_check(file_upload("clip.mp4", mp4_bytes()))
    assert exc_info.value.status == 413


def test_glb_triangle_and_vase_are_valid() -> None:
    for content in (glb_triangle(), glb_vase()):
        assert content[:4] == b"glTF"
        assert struct.unpack_from("<II", content, 4) == (2, len(content))
        checked = media.model_3d_check(file_upload("m.glb", content))
        assert checked.content_type == "model/gltf-binary" and checked.extension == "glb"


def _glb_with(document_changes: dict[str, object]) -> bytes:
    content = glb_triangle()
    json_length = struct.unpack_from("<I", content, 12)[0]
    document = json.loads(content[20 : 20 + json_length])
    document.update(document_changes)
    bin_start = 20 + json_length
    binary_length = struct.unpack_from("<I", content, bin_start)[0]
    return glb_pack(document, content[bin_start + 8 : bin_start + 8 + binary_length])


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"glTF" + struct.pack("<II", 1, 20) + b"\x00" * 8, "version"),
        (glb_triangle()[:-4], "length"),
        (glb_triangle()[:12].replace(b"glTF", b"glTF") + b"\x00" * 8, "length"),
        (_glb_with({"asset": {"version": "1.0"}}), "version"),
        (_glb_with({"extensionsRequired": ["KHR_draco_mesh_compression"]}), "extension"),
        (_glb_with({"extensionsUsed": ["EXT_meshopt_compression"]}), "extension"),
        (_glb_with({"images": [{"uri": "https://evil.example/t.png"}]}), "external_uri"),
        (_glb_with({"buffers": [{"byteLength": 4}, {"byteLength": 4}]}), "buffer_uri"),
        (glb_pack({"asset": {"version": "2.0"}})[:-4] + b"{{{{", "json"),
    ],
)
def test_glb_refused(content: bytes, reason: str) -> None:
    if reason == "length" and struct.unpack_from("<I", content, 8)[0] == len(content):
        pytest.skip("constructed length matches")
    with pytest.raises(InvalidModel3D) as exc_info:
        media.model_3d_check(file_upload("m.glb", content))
    assert exc_info.value.extra.get("reason") == reason


def test_gltf_json_only_when_self_contained(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    embedded = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": 4, "uri": "data:application/octet-stream;base64,AAAAAA=="}],
    }
    checked = media.model_3d_check(file_upload("m.gltf", json.dumps(embedded).encode()))
    assert checked.content_type == "model/gltf+json" and checked.extension == "gltf"
    external = {"asset": {"version": "2.0"}, "buffers": [{"byteLength": 4, "uri": "m.bin"}]}
    with pytest.raises(InvalidModel3D):
        media.model_3d_check(file_upload("m.gltf", json.dumps(external).encode()))
    for content in (b"{not json", b"[1, 2]", PNG_BYTES, b""):
        with pytest.raises(InvalidModel3D):
            media.model_3d_check(file_upload("m.gltf", content))
    monkeypatch.setattr(media, "MODEL_MAX_BYTES", 100)
    with pytest.raises(Model3DTooLarge) as exc_info:
        media.model_3d_check(file_upload("m.glb", glb_vase()))
    assert exc_info.value.status == 413


@pytest.mark.parametrize(
    ("content", "extension"),
    [
        (PDF_BYTES, "pdf"),
        (PNG_BYTES, "png"),
        (JPEG_BYTES, "jpg"),
        (b"PK\x03\x04" + b"\x00" * 60, "zip"),
        (b"PK\x03\x04" + b"\x00" * 26 + b"mimetypeapplication/epub+zip" + b"\x00" * 8, "epub"),
        (b"ID3\x04\x00" + b"\x00" * 40, "mp3"),
        (mp4_bytes(), "mp4"),
        (webm_bytes(), "webm"),
    ],
)
def test_download_file_types(content: bytes, extension: str) -> None:
    assert media.download_file_check(file_upload("f", content)).extension == extension


def test_download_file_refused(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for content in (EXE_BYTES, b"#!/bin/sh\nrm -rf /\n", b""):
        with pytest.raises(InvalidDownloadFile):
            media.download_file_check(file_upload("f.pdf", content))
    monkeypatch.setattr(media, "DOWNLOAD_MAX_BYTES", 10)
    with pytest.raises(DownloadFileTooLarge):
        media.download_file_check(file_upload("f.pdf", PDF_BYTES))


# --- video and 3D on products -------------------------------------------------------------------


def test_video_and_model_follow_product_visibility(
    settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()
    owner = shop.owner
    product = product_make(shop)
    video = services.product_video_set(
        actor=owner, product_id=product.pk, upload=file_upload("clip.mp4", mp4_bytes())
    )
    model = services.product_model_3d_set(
        actor=owner, product_id=product.pk, upload=file_upload("vase.glb", glb_vase())
    )
    assert video.content_type == "video/mp4" and model.content_type == "model/gltf-binary"
    assert Path(settings.MEDIA_ROOT, video.file.name).is_file()
    from yaji.catalog.presenters import product_media_url

    video_url, model_url = product_media_url(video), product_media_url(model)
    assert model_url.endswith(f"/model/{model.pk}.glb")

    # Not listed yet: only the shop and reviewers.
    assert Client().get(model_url).status_code == 404
    manager = Client()
    manager.force_login(owner)
    preview = manager.get(model_url)
    assert preview.status_code == 200 and preview["Cache-Control"] == "private, no-store"
    assert b"".join(preview.streaming_content) == glb_vase()
    services.product_submit(actor=owner, product_id=product.pk)
    services.product_review_approve(reviewer=reviewer_user(), product_id=product.pk)

    public = Client().get(model_url)
    assert public.status_code == 200 and public["Content-Type"] == "model/gltf-binary"
    assert "immutable" in public["Cache-Control"] and public["X-Content-Type-Options"] == "nosniff"
    assert public["Access-Control-Allow-Origin"] == "*"
    # Video: byte ranges for seeking.
    content = mp4_bytes()
    ranged = Client().get(video_url, HTTP_RANGE="bytes=10-19")
    assert ranged.status_code == 206 and ranged["Content-Range"] == f"bytes 10-19/{len(content)}"
    assert b"".join(ranged.streaming_content) == content[10:20]
    suffix = Client().get(video_url, HTTP_RANGE="bytes=-8")
    assert b"".join(suffix.streaming_content) == content[-8:]
    assert Client().get(video_url, HTTP_RANGE=f"bytes={len(content)}-").status_code == 416
    whole = Client().get(video_url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Length"] == str(len(content))
    # Wrong extension or another product's id: not found.
    assert Client().get(video_url.replace(".mp4", ".webm")).status_code == 404
    assert Client().get(model_url.replace(f"/{product.pk}/", "/999999/")).status_code == 404

    page = Client().get(f"/products/{product.pk}/").content.decode()
    assert (
        "<model-viewer" in page
        and model_url in page
        and 'ar-modes="webxr scene-viewer quick-look"' in page
    )
    assert "catalog/vendor/model-viewer.min.js" in page and "<video" in page and video_url in page
    # Listed products are not editable, media included.
    with pytest.raises(ProductNotEditable):
        services.product_video_set(
            actor=owner, product_id=product.pk, upload=file_upload("c.webm", webm_bytes())
        )


def test_replacing_and_removing_media_cleans_files(
    settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()
    product = product_make(shop)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.product_model_3d_set(
            actor=shop.owner, product_id=product.pk, upload=file_upload("a.glb", glb_triangle())
        )
    first_path = Path(settings.MEDIA_ROOT, first.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.product_model_3d_set(
            actor=shop.owner, product_id=product.pk, upload=file_upload("b.glb", glb_vase())
        )
    assert not first_path.exists() and Path(settings.MEDIA_ROOT, second.file.name).exists()
    assert ProductModel3D.objects.filter(product=product).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.product_media_remove(actor=shop.owner, product_id=product.pk, media="model_3d")
    assert not ProductModel3D.objects.exists()
    assert not Path(settings.MEDIA_ROOT, second.file.name).exists()
    with pytest.raises(NotFound):
        services.product_media_remove(actor=shop.owner, product_id=product.pk, media="video")
    with pytest.raises(ValidationFailed):
        services.product_media_remove(actor=shop.owner, product_id=product.pk, media="images")
    # Another shop's manager: not found; a bad file leaves nothing behind.
    with pytest.raises(NotFound):
        services.product_video_set(
            actor=shop_open().owner, product_id=product.pk, upload=file_upload("c.mp4", mp4_bytes())
        )
    before = set(_files(settings.MEDIA_ROOT))
    with pytest.raises(InvalidVideo):
        services.product_video_set(
            actor=shop.owner, product_id=product.pk, upload=file_upload("c.mp4", EXE_BYTES)
        )
    assert set(_files(settings.MEDIA_ROOT)) == before and not ProductVideo.objects.exists()


def test_media_file_removed_when_row_is_not_stored(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()
    product = product_make(shop)
    before = set(_files(settings.MEDIA_ROOT))

    def boom(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(ProductVideo.objects, "create", boom)
    with pytest.raises(RuntimeError):
        services.product_video_set(
            actor=shop.owner, product_id=product.pk, upload=file_upload("c.mp4", mp4_bytes())
        )
    assert set(_files(settings.MEDIA_ROOT)) == before


# --- digital downloads --------------------------------------------------------------------------


def test_digital_file_is_private_and_required_to_submit(settings) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()
    product = product_make(shop, kind="digital_download")
    with pytest.raises(ProductIncomplete) as exc_info:
        services.product_submit(actor=shop.owner, product_id=product.pk)
    assert exc_info.value.extra["missing"] == ["digital_file"]
    digital = services.digital_file_set(
        actor=shop.owner, product_id=product.pk, upload=file_upload("图录.pdf", PDF_BYTES)
    )
    assert digital.original_name == "图录.pdf" and digital.content_type == "application/pdf"
    # Never under MEDIA_ROOT (which DEBUG serves publicly): only in private storage.
    assert not any(p.suffix == ".pdf" for p in _files(settings.MEDIA_ROOT))
    from yaji.catalog.uploads import private_storage

    assert private_storage.exists(digital.file.name)
    with pytest.raises(ValueError):
        digital.file.url  # noqa: B018  # private files have no URL
    standard = product_make(shop)
    with pytest.raises(NotDigitalProduct):
        services.digital_file_set(
            actor=shop.owner, product_id=standard.pk, upload=file_upload("a.pdf", PDF_BYTES)
        )
    # The shop and reviewers may fetch it through the checked view; nobody else.
    url = f"/products/{product.pk}/digital-file/"
    manager = Client()
    manager.force_login(shop.owner)
    fetched = manager.get(url)
    assert fetched.status_code == 200 and b"".join(fetched.streaming_content) == PDF_BYTES
    assert "attachment" in fetched["Content-Disposition"]
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    services.product_submit(actor=shop.owner, product_id=product.pk)
    assert (
        services.product_review_approve(reviewer=reviewer_user(), product_id=product.pk).status
        == "listed"
    )


def test_download_link_issue_and_stream(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()
    product = digital_product_make(shop)
    buyer = UserFactory()
    link = services.digital_download_link_issue(product=product, user=buyer, ttl=timedelta(hours=1))
    assert link.url == f"/downloads/{link.token}/"
    assert link.expires_at == DownloadGrant.objects.get(pk=link.grant_id).expires_at

    response = Client().get(link.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    Client().get(link.url)
    grant = DownloadGrant.objects.get(pk=link.grant_id)
    assert grant.download_count == 2 and grant.last_downloaded_at is not None
    # HEAD (link previews) neither streams nor counts.
    assert Client().head(link.url).status_code == 405
    assert DownloadGrant.objects.get(pk=link.grant_id).download_count == 2

    # An hour and a second later the link is gone: 410.
    later = clock.now() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    expired = Client().get(link.url)
    assert expired.status_code == 410 and b'data-code="download_link_expired"' in expired.content
    with pytest.raises(DownloadLinkExpired):
        services.digital_download_open(token=link.token)
    assert DownloadGrant.objects.get(pk=link.grant_id).download_count == 2


def test_download_token_tampering_and_limits() -> None:
    shop = shop_open()
    product = digital_product_make(shop)
    buyer = UserFactory()
    link = services.digital_download_link_issue(
        product=product, user=buyer, ttl=600, max_downloads=2
    )
    value, stamp, signature = link.token.split(":")
    forged = [
        f"{int(value) + 1}:{stamp}:{signature}",  # another grant's id
        f"{value}:{stamp}:{signature[:-2]}xx",
        "not-a-token",
        signing.dumps({"grant": link.grant_id}),  # signed, but with another salt
        signing.TimestampSigner().sign(value),
    ]
    for token in forged:
        assert Client().get(f"/downloads/{token}/").status_code == 404
        with pytest.raises(DownloadLinkInvalid):
            services.digital_download_open(token=token)
    assert Client().get(link.url).status_code == 200
    assert Client().get(link.url).status_code == 200
    used_up = Client().get(link.url)
    assert used_up.status_code == 410 and b"download_limit_reached" in used_up.content
    with pytest.raises(DownloadLimitReached):
        services.digital_download_open(token=link.token)
    assert DownloadGrant.objects.get(pk=link.grant_id).download_count == 2
    # A revoked grant is invalid even with a good signature.
    other = services.digital_download_link_issue(product=product, user=buyer, ttl=600)
    assert Client().get(other.url).status_code == 200
    services.digital_download_revoke(actor=None, grant_id=other.grant_id)
    revoked_at = DownloadGrant.objects.get(pk=other.grant_id).revoked_at
    services.digital_download_revoke(actor=None, grant_id=other.grant_id)  # idempotent
    assert DownloadGrant.objects.get(pk=other.grant_id).revoked_at == revoked_at
    assert Client().get(other.url).status_code == 404
    with pytest.raises(NotFound):
        services.digital_download_revoke(actor=None, grant_id=0)


def test_download_link_issue_refusals() -> None:
    shop = shop_open()
    buyer = UserFactory()
    product = digital_product_make(shop)
    for ttl in (0, 59, timedelta(days=31), -5, True, "3600"):
        with pytest.raises(ValidationFailed):
            services.digital_download_link_issue(product=product, user=buyer, ttl=ttl)  # type: ignore[arg-type]
    for limit in (0, -1, 1001, True):
        with pytest.raises(ValidationFailed):
            services.digital_download_link_issue(
                product=product, user=buyer, ttl=600, max_downloads=limit
            )
    with pytest.raises(NotDigitalProduct):
        services.digital_download_link_issue(product=product_listed(shop), user=buyer, ttl=600)
    bare = product_make(shop, kind="digital_download")
    with pytest.raises(DigitalFileMissing):
        services.digital_download_link_issue(product=bare, user=buyer, ttl=600)
    # The file's deletion (product removed) makes old links invalid, not a 500.
    link = services.digital_download_link_issue(product=product, user=buyer, ttl=600)
    DigitalFile.objects.filter(product=product).delete()
    assert Client().get(link.url).status_code == 404


def test_support_revokes_a_link_in_admin(client) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()
    product = digital_product_make(shop)
    link = services.digital_download_link_issue(product=product, user=UserFactory(), ttl=600)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/catalog/downloadgrant/").status_code == 200
    done = client.post(
        "/admin/catalog/downloadgrant/",
        {"action": "revoke", "_selected_action": [str(link.grant_id)]},
    )
    assert done.status_code == 302
    assert DownloadGrant.objects.get(pk=link.grant_id).revoked_at is not None
    assert Client().get(link.url).status_code == 404
