"""The demo world's copyright chapter: registered works with certificates, a limited edition
with digital passports, and one suspicious scan waiting for a reviewer.

Runs after the orders chapter: the embroidery workshop registers the design of its numbered
fan (a generated picture, as the near-duplicate measurements use), binds the edition to it —
the fans already paid for get their passports then — and one passport is scanned in Beijing
and, a moment later, in Ürümqi, which the clone rules flag. The community's audio works are
registered by their creators. Everything goes through the app's services; re-running is a
no-op.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from django.core.files.uploadedfile import SimpleUploadedFile

from yaji.accounts.selectors import user_by_identifier
from yaji.community.models import Work, WorkStatus
from yaji.copyright import passports, services
from yaji.copyright.errors import AlreadyRegistered
from yaji.copyright.models import EditionDesign, Passport, PassportScan, Registration

DESIGNER = "lin.wanqing@yaji.demo"
DESIGN_TITLE = "宋人花鸟团扇纹样"
EDITION_TITLE = "双面绣团扇·宋人花鸟"
AUDIO_CREATORS = ("zhou.qingyin@yaji.demo", "a.duo@yaji.demo", "shen.mo@yaji.demo")
COPYRIGHT_STEPS = 4


def _design_png() -> bytes:
    from yaji.copyright.measurements import original

    buffer = io.BytesIO()
    original(20261201).save(buffer, format="PNG")
    return buffer.getvalue()


def _register(work: Work) -> Registration | None:
    try:
        return services.work_register(user=work.creator, work_id=work.pk)
    except AlreadyRegistered:
        return Registration.objects.filter(work=work).exclude(status="refused").first()


def _design_step() -> str:
    from yaji.community import services as community

    designer = user_by_identifier(identifier=DESIGNER)
    if designer is None:
        return "design"
    work = Work.objects.filter(creator=designer, title=DESIGN_TITLE).first()
    if work is None:
        work = community.work_publish(
            creator=designer,
            title=DESIGN_TITLE,
            kind="design",
            description="团扇扇面纹样：桃枝山雀。/ The fan's design: a bird on a peach branch.",
            tags="苏绣, 宋韵",
            media=SimpleUploadedFile("fan-design.png", _design_png(), "image/png"),
        )
    _register(work)
    return "design"


def _audio_step() -> str:
    for email in AUDIO_CREATORS:
        creator = user_by_identifier(identifier=email)
        if creator is None:
            continue
        for work in Work.objects.filter(creator=creator, status=WorkStatus.PUBLISHED)[:1]:
            _register(work)
    return "works"


def _edition_step() -> str:
    from yaji.catalog.models import Product

    designer = user_by_identifier(identifier=DESIGNER)
    product = Product.objects.filter(title_zh=EDITION_TITLE).first()
    registration = (
        Registration.objects.filter(
            registrant=designer, work__title=DESIGN_TITLE, status="registered"
        ).first()
        if designer
        else None
    )
    if product is None or registration is None:
        return "edition"
    if not EditionDesign.objects.filter(product=product).exists():
        passports.edition_design_bind(
            user=designer,  # type: ignore[arg-type]  # checked above
            product_id=product.pk,
            registration_id=registration.pk,
        )
    return "edition"


def _suspicious_scan_step() -> str:
    if PassportScan.objects.exists():  # scanned on an earlier run
        return "scan"
    passport = Passport.objects.filter(status="active").order_by("id").first()
    if passport is None:
        return "scan"
    passports.passport_scan(token=passport.token, city="beijing")
    passports.passport_scan(token=passport.token, city="urumqi")  # ~2,400 km, seconds later
    return "scan"


def copyright_chapter() -> Iterator[str]:
    yield _design_step()
    yield _audio_step()
    yield _edition_step()
    yield _suspicious_scan_step()
