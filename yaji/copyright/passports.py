"""Digital passports for the numbered units of a limited edition, and clone detection.

A shop binds a limited edition (a catalog product) to a design its people registered
(:func:`edition_design_bind`). Each unit trade numbers at payment then gets a passport
(:func:`passports_issue_for_order`, from the ``trade.order_paid`` event): a serial, a QR payload
signed with the log's key that binds the unit to the design's log entry
(:mod:`yaji.copyright.passport_tokens`), and log leaves for its steps — produced, sold, later
transferred or voided — so the provenance trail is checked against the same Merkle log as
the registrations (ADR 0028).

Scanning (:func:`passport_scan`) verifies the payload first: a forged or altered payload is
refused and nothing is recorded. A genuine one records a coarse scan (a city and an address
prefix) and looks for clones: the same QR seen in two cities too far apart for the time
between the scans, or scanned too often. A flagged passport shows a warning on its page and a
:class:`CloneCase` waits in the reviewers' queue.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction

from yaji.accounts.models import User
from yaji.accounts.services import audit_entry_record
from yaji.copyright import passport_tokens, scan_places
from yaji.copyright.errors import (
    CloneCaseDecided,
    CloneCaseNotFound,
    EditionAlreadyBound,
    EditionNotBindable,
    PassportInvalid,
    PassportNotFound,
    PassportNotTransferable,
    ReasonRequired,
)
from yaji.copyright.log_keys import log_origin, log_private_key, log_public_key
from yaji.copyright.models import (
    CloneCase,
    EditionDesign,
    Passport,
    PassportEvent,
    PassportEventKind,
    PassportScan,
    Registration,
)
from yaji.copyright.statements import passport_statement_build
from yaji.core import clock

# Clone rules (ADR 0028). Cities are coarse: two scans less than CITY_SLACK_KM apart are the
# same place; beyond it, the distance must be coverable at airliner speed.
MAX_SPEED_KMH = 900.0
CITY_SLACK_KM = 150.0
TRAVEL_WINDOW = timedelta(hours=48)
BURST_WINDOW = timedelta(hours=24)
BURST_MAX_SCANS = 30  # more scans of one unit in a day than any owner shows it
BURST_MAX_PLACES = 4  # distinct cities or address prefixes in a day
MAX_ID = 2**63 - 1


def _serial() -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
    return "YJ-" + "".join(secrets.choice(alphabet) for _ in range(12))


# --- binding a design and issuing passports ---------------------------------------------------


@transaction.atomic(durable=True)
def edition_design_bind(*, user: User, product_id: int, registration_id: int) -> EditionDesign:
    """Declare that a limited edition is made from a registered design; units already sold
    get their passports now, later ones when their order is paid."""
    from yaji.catalog.models import Product
    from yaji.catalog.permissions import shop_can_manage

    product = (
        Product.objects.select_for_update(of=("self",))
        .select_related("shop")
        .filter(pk=product_id)
        .first()
        if 0 < product_id <= MAX_ID
        else None
    )
    registration = (
        Registration.objects.select_related("entry")
        .filter(pk=registration_id, status=Registration.Status.REGISTERED, registrant=user)
        .first()
        if 0 < registration_id <= MAX_ID
        else None
    )
    if (
        product is None
        or registration is None
        or product.kind != "limited_edition"
        or not shop_can_manage(user, product.shop)
    ):
        raise EditionNotBindable(extra={"product_id": product_id})
    if EditionDesign.objects.filter(product=product).exists():
        raise EditionAlreadyBound(extra={"product_id": product_id})
    design = EditionDesign.objects.create(product=product, registration=registration, bound_by=user)
    _issue_for_units(design_units(product_id=product.pk))
    audit_entry_record(
        action="copyright_edition_bound",
        actor=user,
        target_type="product",
        target_id=product.pk,
        metadata={"registration": registration.pk},
    )
    return design


def design_units(*, order_id: int | None = None, product_id: int | None = None) -> list[Any]:
    from yaji.trade import selectors as trade_selectors

    return trade_selectors.edition_units_of(order_id=order_id, product_id=product_id)


def _step(passport: Passport, kind: str) -> PassportEvent:
    from yaji.copyright.services import log_append

    design = passport.design.registration.entry
    leaf = passport_statement_build(
        key=log_private_key(),
        serial=passport.serial,
        event=kind,
        design_index=design.index,
        design_leaf_hash=design.leaf_hash,
        number=passport.number,
        time=_now_text(),
    )
    return PassportEvent.objects.create(passport=passport, kind=kind, entry=log_append(leaf=leaf))


def _now_text() -> str:
    from yaji.copyright.signing import timestamp_format

    return timestamp_format(clock.now())


def _issue_for_units(units: list[Any]) -> list[Passport]:
    designs = {
        d.product_id: d
        for d in EditionDesign.objects.select_related("registration__entry", "product").filter(
            product_id__in={u.product_id for u in units}
        )
    }
    issued: list[Passport] = []
    for unit in units:
        design = designs.get(unit.product_id)
        if design is None or Passport.objects.filter(edition_unit_id=unit.pk).exists():
            continue
        serial = _serial()
        claim = passport_tokens.PassportClaim(
            serial=serial,
            origin=log_origin(),
            design_index=design.registration.entry.index,
            design_leaf_hash=design.registration.entry.leaf_hash,
            product_id=unit.product_id,
            number=unit.number,
            edition_size=unit.product.edition_size or 0,
        )
        passport = Passport.objects.create(
            serial=serial,
            design=design,
            edition_unit=unit,
            order=unit.line.order,
            number=unit.number,
            token=passport_tokens.token_sign(log_private_key(), claim),
            holder=unit.line.order.buyer,
        )
        _step(passport, PassportEventKind.PRODUCED)
        _step(passport, PassportEventKind.SOLD)
        issued.append(passport)
    return issued


@transaction.atomic(durable=True)
def passports_issue_for_order(*, order_id: int) -> list[Passport]:
    """Passports for a paid order's numbered units whose edition is bound to a design
    (idempotent: a unit with a passport is skipped)."""
    return _issue_for_units(design_units(order_id=order_id))


@transaction.atomic(durable=True)
def passports_void_for_order(*, order_id: int) -> int:
    """A refunded order's units went back to the edition: their passports are voided."""
    voided = 0
    for passport in (
        Passport.objects.select_for_update(of=("self",))
        .filter(order_id=order_id, edition_unit__isnull=True)
        .exclude(status=Passport.Status.VOID)
        .select_related("design__registration__entry")
    ):
        passport.status = Passport.Status.VOID
        passport.save(update_fields=["status", "updated_at"])
        _step(passport, PassportEventKind.VOIDED)
        voided += 1
    return voided


def on_order_paid(event: Any) -> None:
    # Idempotent by construction (a unit with a passport is skipped; UNIQUE(edition_unit)
    # turns a concurrent duplicate delivery into an error the outbox retries).
    passports_issue_for_order(order_id=int(event.payload["order_id"]))


def on_order_cancelled(event: Any) -> None:
    passports_void_for_order(order_id=int(event.payload["order_id"]))


@transaction.atomic(durable=True)
def passport_transfer(*, holder: User, serial: str, to_user: User) -> Passport:
    """The holder hands the unit (and its passport) to someone else — a resale or a gift."""
    passport = (
        Passport.objects.select_for_update(of=("self",))
        .select_related("design__registration__entry")
        .filter(serial=str(serial)[:40])
        .first()
    )
    if passport is None:
        raise PassportNotFound()
    if (
        passport.holder_id != holder.pk
        or passport.status != Passport.Status.ACTIVE
        or to_user.pk == holder.pk
    ):
        raise PassportNotTransferable()
    passport.holder = to_user
    passport.save(update_fields=["holder", "updated_at"])
    _step(passport, PassportEventKind.TRANSFERRED)
    return passport


# --- scanning and clone detection --------------------------------------------------------------


@dataclass
class ScanResult:
    passport: Passport
    scan: PassportScan
    flags: list[dict[str, Any]] = field(default_factory=list)


def passport_verify_token(*, token: str) -> passport_tokens.PassportClaim:
    try:
        return passport_tokens.token_verify(token, public_key=log_public_key(), origin=log_origin())
    except passport_tokens.PassportTokenError as exc:
        raise PassportInvalid(extra={"reason": str(exc)}) from exc


def _clone_signals(passport: Passport, *, city: str, prefix: str, now: Any) -> list[dict[str, Any]]:
    recent = list(
        PassportScan.objects.filter(passport=passport, created_at__gte=now - TRAVEL_WINDOW)
        .order_by("-created_at", "-id")
        .values("id", "city", "ip_prefix", "created_at")[:200]
    )
    flags: list[dict[str, Any]] = []
    if city:
        for previous in recent:
            distance = scan_places.distance_km(city, previous["city"])
            if distance is None or distance <= CITY_SLACK_KM:
                continue
            hours = max((now - previous["created_at"]).total_seconds() / 3600, 1 / 3600)
            speed = (distance - CITY_SLACK_KM) / hours
            if speed > MAX_SPEED_KMH:
                flags.append(
                    {
                        "kind": "impossible_travel",
                        "from_city": previous["city"],
                        "to_city": city,
                        "distance_km": round(distance),
                        "minutes": round(hours * 60),
                    }
                )
                break
    day = [r for r in recent if r["created_at"] >= now - BURST_WINDOW]
    if len(day) + 1 > BURST_MAX_SCANS:
        flags.append({"kind": "too_many_scans", "scans_24h": len(day) + 1})
    places = {r["city"] or r["ip_prefix"] for r in day} | {city or prefix}
    places.discard("")
    if len(places) > BURST_MAX_PLACES:
        flags.append({"kind": "too_many_places", "places_24h": len(places)})
    return flags


@transaction.atomic(durable=True)
def passport_scan(*, token: str, city: str = "", ip: str = "") -> ScanResult:
    """Record a scan of a genuine passport and flag clones; a forged payload records nothing."""
    claim = passport_verify_token(token=token)
    passport = (
        Passport.objects.select_for_update(
            of=("self",)
        )  # scans of one passport are judged one at a time
        .select_related("design__registration__entry", "design__product")
        .filter(serial=claim.serial)
        .first()
    )
    if passport is None or passport.token != token.strip():
        raise PassportNotFound()
    city = city if city in scan_places.CITIES else scan_places.city_of_ip(ip)
    prefix = scan_places.ip_prefix(ip)
    now = clock.now()
    flags = (
        _clone_signals(passport, city=city, prefix=prefix, now=now)
        if passport.status != Passport.Status.VOID
        else []
    )
    scan = PassportScan.objects.create(
        passport=passport, city=city, ip_prefix=prefix, flags=flags, created_at=now
    )
    if flags:
        reasons = [{**flag, "scan_id": scan.pk} for flag in flags]
        case = (
            CloneCase.objects.select_for_update()
            .filter(passport=passport, status=CloneCase.Status.OPEN)
            .first()
        )
        if case is None:
            CloneCase.objects.create(passport=passport, reasons=reasons)
        else:
            case.reasons = [*case.reasons, *reasons][-50:]
            case.save(update_fields=["reasons", "updated_at"])
        if passport.status == Passport.Status.ACTIVE:
            passport.status = Passport.Status.SUSPECTED
            passport.save(update_fields=["status", "updated_at"])
    return ScanResult(passport=passport, scan=scan, flags=flags)


@transaction.atomic(durable=True)
def clone_case_decide(*, reviewer: User, case_id: int, clone: bool, reason: str = "") -> CloneCase:
    """A reviewer's verdict: scans were genuine (the passport is active again) or the QR was
    copied (the passport stays marked ``cloned`` on its public page)."""
    from yaji.catalog import selectors as catalog_selectors

    catalog_selectors.reviewer_require(reviewer)
    reason = (reason or "").replace("\x00", "").strip()[:1000]
    if clone and not reason:
        raise ReasonRequired(extra={"field": "reason"})
    case = (
        CloneCase.objects.select_for_update().filter(pk=case_id).first()
        if 0 < case_id <= MAX_ID
        else None
    )
    if case is None:
        raise CloneCaseNotFound()
    if case.status != CloneCase.Status.OPEN:
        raise CloneCaseDecided(extra={"status": case.status})
    passport = Passport.objects.select_for_update().get(pk=case.passport_id)
    case.status = CloneCase.Status.CLONE if clone else CloneCase.Status.GENUINE
    case.decision_reason = reason
    case.reviewer = reviewer
    case.decided_at = clock.now()
    case.save(update_fields=["status", "decision_reason", "reviewer", "decided_at", "updated_at"])
    if passport.status in (Passport.Status.SUSPECTED, Passport.Status.ACTIVE):
        passport.status = Passport.Status.CLONED if clone else Passport.Status.ACTIVE
        passport.save(update_fields=["status", "updated_at"])
    audit_entry_record(
        action="copyright_clone_confirmed" if clone else "copyright_clone_cleared",
        actor=reviewer,
        target_type="copyright_passport",
        target_id=passport.pk,
        metadata={"case": case.pk},
    )
    return case
