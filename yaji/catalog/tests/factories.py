"""Test data for the catalog. People are made directly (fast); the onboarding flow itself goes
through the services, so every shop in a test was applied for and approved."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from yaji.accounts import services as accounts
from yaji.accounts.kyc import id_number_make
from yaji.accounts.models import Role, RoleAssignment, User
from yaji.accounts.tests.factories import PASSWORD, UserFactory
from yaji.catalog import services
from yaji.catalog.models import Product, Shop, ShopApplication

__all__ = ["PASSWORD", "UserFactory"]

_seq = count(1)

# The smallest files whose first bytes prove their type (the sniffer looks at nothing else).
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\xa5\xf4"
    b"\x0c\xc6\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def upload(name: str = "licence.pdf", content: bytes = PDF_BYTES, content_type: str = "") -> Any:
    return SimpleUploadedFile(name, content, content_type=content_type or "application/pdf")


def verified_user(**kwargs: Any) -> User:
    """A user with a verified real name (through the accounts service, sandbox provider)."""
    user = UserFactory(**kwargs)
    n = next(_seq)
    accounts.kyc_submit(
        user=user,
        real_name="李清照",
        id_number=id_number_make(
            region="370102", birth=date(1984, 3, 13), seq=f"{100 + n % 800:03d}"
        ),
    )
    return user


def reviewer_user(**kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    RoleAssignment.objects.create(user=user, role=Role.REVIEWER)
    return user


def application_submit(applicant: User, **overrides: Any) -> ShopApplication:
    n = next(_seq)
    fields: dict[str, Any] = {
        "name_zh": "墨香苏绣",
        "name_en": "Ink & Silk",
        "slug": f"ink-silk-{n}",
        "shop_type": "heritage_workshop",
        "story_zh": "苏绣第四代。\n\n一针一线，皆是光阴。",
        "region": "江苏 · 苏州",
        "documents": [upload()],
    }
    fields.update(overrides)
    return services.shop_application_submit(applicant=applicant, **fields)


def shop_open(owner: User | None = None, reviewer: User | None = None, **overrides: Any) -> Shop:
    owner = owner or verified_user()
    reviewer = reviewer or reviewer_user()
    application = application_submit(owner, **overrides)
    return services.shop_application_approve(reviewer=reviewer, application_id=application.pk)


def png_bytes(
    width: int = 64, height: int = 48, color: tuple[int, int, int] = (40, 90, 140)
) -> bytes:
    """A real PNG made with Pillow, with an EXIF-like text chunk that must not survive."""
    import io

    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "GPS 31.2N 121.4E secret")
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def image_upload(name: str = "photo.png", content: bytes | None = None) -> Any:
    return SimpleUploadedFile(name, content or png_bytes(), content_type="image/png")


def product_make(shop: Shop, actor: User | None = None, **overrides: Any) -> Product:
    """A draft product with one variant and one image, ready to submit."""
    actor = actor or shop.owner
    fields: dict[str, Any] = {"title_zh": "青瓷茶盏", "title_en": "Celadon tea bowl"}
    fields.update(overrides)
    product = services.product_create(actor=actor, shop=shop, **fields)
    services.variant_upsert(
        actor=actor, product_id=product.pk, sku="CUP-1", price_fen=16800, stock=5
    )
    services.product_image_add(actor=actor, product_id=product.pk, upload=image_upload())
    return product


def product_listed(shop: Shop, reviewer: User | None = None, **overrides: Any) -> Product:
    product = product_make(shop, **overrides)
    services.product_submit(actor=shop.owner, product_id=product.pk)
    return services.product_review_approve(
        reviewer=reviewer or reviewer_user(), product_id=product.pk
    )


# --- media (ADR 0016) ----------------------------------------------------------------------------


def _box(kind: bytes, payload: bytes) -> bytes:
    import struct

    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(brand: bytes = b"isom", *, moov: bool = True) -> bytes:
    """A structurally valid MP4: ftyp, moov (a movie header only) and mdat boxes."""
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x02\x00" + b"isomiso2avc1mp41")
    boxes = ftyp + (_box(b"moov", _box(b"mvhd", b"\x00" * 100)) if moov else b"")
    return boxes + _box(b"mdat", b"\x00" * 256)


def webm_bytes(doctype: bytes = b"webm") -> bytes:
    """An EBML header with the given DocType, then a Segment of unknown size."""
    children = (
        b"\x42\x86\x81\x01"  # EBMLVersion 1
        + b"\x42\xf7\x81\x01"  # EBMLReadVersion 1
        + b"\x42\xf2\x81\x04"
        + b"\x42\xf3\x81\x08"
        + b"\x42\x82"
        + bytes([0x80 | len(doctype)])
        + doctype
        + b"\x42\x87\x81\x02"
        + b"\x42\x85\x81\x02"
    )
    header = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(children)]) + children
    return header + b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff" + b"\x00" * 64


def file_upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> Any:
    return SimpleUploadedFile(name, content, content_type=content_type)


def digital_product_make(shop: Shop, content: bytes = PDF_BYTES, **overrides: Any) -> Product:
    """A draft digital-download product with a variant, an image and its file."""
    product = product_make(shop, kind="digital_download", **overrides)
    services.digital_file_set(
        actor=shop.owner, product_id=product.pk, upload=file_upload("图录.pdf", content)
    )
    return product
