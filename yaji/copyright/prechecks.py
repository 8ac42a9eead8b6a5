"""The copyright pre-check of listings, and the outbox handler that settles held listings.

Before a product is listed, each of its images is compared with the registered works of
*other* authors: the same bytes as a registered work (SHA-256 of the upload) → the listing is
rejected with the reason; a near-duplicate (perceptual distance within the threshold, either
orientation) → a case for the reviewer queue and the listing is held
(:class:`yaji.catalog.prechecks.PrecheckHold`) until the reviewer decides.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from yaji.copyright.models import DuplicateCase
from yaji.copyright.perceptual import NotAnImage, fingerprint
from yaji.copyright.selectors import (
    exact_registration_of,
    near_duplicates_find,
    registered_images_exist,
)
from yaji.copyright.services import (
    CASE_DECIDED_TOPIC,
    PRECHECK_NAME,
    duplicate_case_open,
    listing_hold_settle,
)


def _owners(product: Any) -> set[int]:
    """The shop's people: their own registered works are not infringed by their own listing."""
    shop = product.shop
    return {shop.owner_id, *shop.memberships.values_list("user_id", flat=True)}


def copyright_precheck(product: Any) -> Any:
    from yaji.catalog.prechecks import PrecheckHold

    owners = _owners(product)
    # A resubmitted listing starts over: the previous submission's open cases are withdrawn.
    DuplicateCase.objects.filter(product=product, status=DuplicateCase.Status.OPEN).update(
        status=DuplicateCase.Status.WITHDRAWN
    )
    opened = 0
    any_images = registered_images_exist()
    for image in product.images.all():
        exact = exact_registration_of(sha256=image.sha256)
        if exact is not None and exact.registrant_id not in owners:
            return _(
                "商品图片与已登记的作品《%(title)s》（存证序号 %(index)s）完全相同，不能上架。"
            ) % {"title": exact.work.title, "index": exact.entry.index if exact.entry else "-"}
        if not any_images:
            continue
        try:
            with image.file.open("rb") as handle:
                fp = fingerprint(handle.read())
        except (OSError, NotAnImage):
            continue  # the catalog stored it re-encoded; an unreadable file is its problem
        for matched, dist in near_duplicates_find(fingerprint=fp, limit=3):
            if matched.registrant_id in owners:
                continue
            duplicate_case_open(
                product=product, product_image=image, matched=matched, distance=dist
            )
            opened += 1
    if opened:
        return PrecheckHold(_("商品图片与已登记的作品相似，等待版权审核。"), check=PRECHECK_NAME)
    return None


def on_case_decided(event: Any) -> None:
    """Outbox handler: carry a verdict to the held listing (idempotent by construction)."""
    listing_hold_settle(product_id=int(event.payload["product_id"]))


def register() -> None:
    from yaji.catalog.prechecks import precheck_register
    from yaji.core.outbox import outbox_subscribe

    precheck_register(PRECHECK_NAME, copyright_precheck)
    outbox_subscribe(
        topic=CASE_DECIDED_TOPIC, name="copyright.settle_listing", handler=on_case_decided
    )
