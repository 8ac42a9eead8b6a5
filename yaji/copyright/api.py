"""The copyright API: the log (key, checkpoints, entries, RFC 9162 proofs), registrations,
certificates and their verification, and the near-duplicate review queue."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Path, Query, Router, Status
from ninja.responses import codes_4xx

from yaji.accounts.auth import api_auth
from yaji.accounts.models import User
from yaji.copyright import selectors, services, signing, takedowns
from yaji.copyright.certificates import CertificateError, certificate_verify
from yaji.copyright.errors import LogEmpty
from yaji.copyright.log_keys import log_key_id, log_origin, log_public_key
from yaji.copyright.models import Checkpoint, Registration
from yaji.copyright.schemas import (
    CaseDecisionIn,
    CaseOut,
    CheckpointOut,
    ConsistencyProofOut,
    EntryOut,
    ErrorOut,
    InclusionProofOut,
    LogKeyOut,
    PassportScanIn,
    PassportScanOut,
    RegistrationIn,
    RegistrationOut,
    StatementIn,
    TakedownDecisionIn,
    TakedownIn,
    TakedownOut,
    VerdictOut,
    VerifyIn,
)
from yaji.core.idempotency import idempotent

router = Router(tags=["copyright"], auth=api_auth)

MAX_ID = 2**63 - 1
ERRORS = {codes_4xx: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, return-value]  # set by api_auth


def checkpoint_out(cp: Checkpoint) -> dict[str, Any]:
    body = signing.Checkpoint(
        origin=cp.origin, size=cp.size, root=bytes.fromhex(cp.root_hash), timestamp=cp.timestamp
    ).body()
    return {
        "origin": cp.origin,
        "tree_size": cp.size,
        "root_hash": cp.root_hash,
        "timestamp": cp.timestamp,
        "key_id": cp.key_id,
        "signature": cp.signature,
        "body": body.decode(),
    }


def registration_out(registration: Registration) -> dict[str, Any]:
    registered = registration.status == Registration.Status.REGISTERED
    return {
        "id": registration.pk,
        "work_id": registration.work_id,
        "status": registration.status,
        "content_sha256": registration.content_sha256,
        "author_did": registration.author_did,
        "index": registration.entry.index if registration.entry else None,
        "certificate_url": reverse("copyright:certificate", args=[registration.pk])
        if registered
        else None,
        "created_at": registration.created_at,
    }


@router.get("/copyright/log/key", auth=None, response=LogKeyOut, summary="The log's public key")
def log_key(request: HttpRequest):
    return {
        "origin": log_origin(),
        "public_key": signing.b64(log_public_key()),
        "key_id": log_key_id(),
    }


@router.get(
    "/copyright/log/checkpoint",
    auth=None,
    response={200: CheckpointOut, **ERRORS},
    summary="The latest signed checkpoint",
)
def checkpoint_latest(request: HttpRequest):
    return checkpoint_out(selectors.checkpoint_latest())


@router.post(
    "/copyright/log/checkpoints",
    response={201: CheckpointOut, **ERRORS},
    summary="Sign a checkpoint now (reviewers and operators; unchanged head: the latest)",
)
def checkpoint_create(request: HttpRequest):
    from yaji.catalog.selectors import reviewer_require

    reviewer_require(_user(request))
    checkpoint = services.checkpoint_create()
    if checkpoint is None:
        raise LogEmpty()
    return Status(201, checkpoint_out(checkpoint))


@router.get(
    "/copyright/log/entries/{index}",
    auth=None,
    response={200: EntryOut, **ERRORS},
    summary="One leaf of the log",
)
def entry_detail(request: HttpRequest, index: int = Path(..., ge=0, le=MAX_ID)):
    entry = selectors.entry_get(index=index)
    return {"index": entry.index, "leaf": entry.leaf, "leaf_hash": entry.leaf_hash}


@router.get(
    "/copyright/log/proofs/inclusion",
    auth=None,
    response={200: InclusionProofOut, **ERRORS},
    summary="Inclusion proof of a leaf in the tree of a given size (RFC 9162 §2.1.3)",
)
def proof_inclusion(
    request: HttpRequest,
    index: int = Query(..., ge=0, le=MAX_ID),
    tree_size: int = Query(..., ge=1, le=MAX_ID),
):
    hashes = selectors.inclusion_proof(index=index, size=tree_size)
    return {"leaf_index": index, "tree_size": tree_size, "hashes": [signing.b64(h) for h in hashes]}


@router.get(
    "/copyright/log/proofs/consistency",
    auth=None,
    response={200: ConsistencyProofOut, **ERRORS},
    summary="Consistency proof between two tree sizes (RFC 9162 §2.1.4)",
)
def proof_consistency(
    request: HttpRequest,
    first: int = Query(..., ge=0, le=MAX_ID),
    second: int = Query(..., ge=0, le=MAX_ID),
):
    hashes = selectors.consistency_proof(first=first, second=second)
    return {"first": first, "second": second, "hashes": [signing.b64(h) for h in hashes]}


@router.post(
    "/copyright/registrations",
    response={201: RegistrationOut, **ERRORS},
    summary="Register one of my published works (pending_review when it resembles another's)",
)
@idempotent
def registration_create(request: HttpRequest, payload: RegistrationIn):
    registration = services.work_register(user=_user(request), work_id=payload.work_id)
    return Status(201, registration_out(registration))


@router.get(
    "/copyright/registrations",
    response={200: list[RegistrationOut]},
    summary="My registrations, newest first",
)
def registration_list(request: HttpRequest):
    return [registration_out(r) for r in selectors.registrations_of(user=_user(request))]


@router.get(
    "/copyright/registrations/{registration_id}/certificate",
    auth=None,
    response={200: dict[str, Any], **ERRORS},
    summary="The certificate (entry, inclusion proof, signed checkpoint) of a registration",
)
def registration_certificate(
    request: HttpRequest, registration_id: int = Path(..., ge=1, le=MAX_ID)
):
    registration = selectors.registration_get(registration_id=registration_id)
    return services.certificate_issue(registration=registration)


@router.post(
    "/copyright/certificates/verify",
    auth=None,
    response={200: VerdictOut, **ERRORS},
    summary="Verify a certificate against this log's public key",
)
def certificate_check(request: HttpRequest, payload: VerifyIn):
    try:
        verdict = certificate_verify(
            payload.certificate, public_key=log_public_key(), origin=log_origin()
        )
    except CertificateError as exc:
        return {"valid": False, "code": exc.code, "message": str(exc)}
    return {
        "valid": True,
        "index": verdict.index,
        "tree_size": verdict.tree_size,
        "root_hash": verdict.root_hash,
        "checkpoint_time": verdict.checkpoint_time,
        "statement": verdict.statement,
    }


def case_out(case: Any) -> dict[str, Any]:
    return {
        "id": case.pk,
        "status": case.status,
        "distance": case.distance,
        "product_id": case.product_id,
        "registration_id": case.registration_id,
        "matched_registration_id": case.matched_id,
        "created_at": case.created_at,
    }


@router.get(
    "/copyright/cases",
    response={200: list[CaseOut], **ERRORS},
    summary="Open near-duplicate cases, oldest first (reviewers)",
)
def case_list(request: HttpRequest):
    from yaji.catalog.selectors import reviewer_require

    reviewer_require(_user(request))
    return [case_out(c) for c in selectors.case_queue()]


@router.post(
    "/copyright/cases/{case_id}/decision",
    response={200: CaseOut, **ERRORS},
    summary="Decide a near-duplicate case (reviewers)",
)
def case_decide(
    request: HttpRequest, payload: CaseDecisionIn, case_id: int = Path(..., ge=1, le=MAX_ID)
):
    case = services.duplicate_case_decide(
        reviewer=_user(request),
        case_id=case_id,
        infringing=payload.infringing,
        reason=payload.reason,
    )
    return case_out(case)


def takedown_out(notice: Any) -> dict[str, Any]:
    return {
        "id": notice.pk,
        "product_id": notice.product_id,
        "registration_id": notice.registration_id,
        "status": notice.status,
        "statement": notice.statement,
        "counter_statement": notice.counter_statement,
        "decision_reason": notice.decision_reason,
        "events": [
            {"kind": e.kind, "note": e.note, "created_at": e.created_at}
            for e in notice.events.all()
        ],
    }


@router.post(
    "/copyright/takedowns",
    response={201: TakedownOut, **ERRORS},
    summary="File a takedown notice against a listing, with your registration certificate",
)
@idempotent
def takedown_create(request: HttpRequest, payload: TakedownIn):
    notice = takedowns.takedown_file(
        complainant=_user(request),
        product_id=payload.product_id,
        certificate=payload.certificate,
        statement=payload.statement,
    )
    return Status(201, takedown_out(notice))


@router.get(
    "/copyright/takedowns/{notice_id}",
    response={200: TakedownOut, **ERRORS},
    summary="A notice and its history (its parties and reviewers)",
)
def takedown_detail(request: HttpRequest, notice_id: int = Path(..., ge=1, le=MAX_ID)):
    return takedown_out(selectors.takedown_get(notice_id=notice_id, user=_user(request)))


@router.post(
    "/copyright/takedowns/{notice_id}/counter",
    response={200: TakedownOut, **ERRORS},
    summary="Counter-notice by the listing's shop",
)
def takedown_counter(
    request: HttpRequest, payload: StatementIn, notice_id: int = Path(..., ge=1, le=MAX_ID)
):
    notice = takedowns.takedown_counter(
        seller=_user(request), notice_id=notice_id, statement=payload.statement
    )
    return takedown_out(notice)


@router.post(
    "/copyright/takedowns/{notice_id}/decision",
    response={200: TakedownOut, **ERRORS},
    summary="Decide a notice (reviewers): uphold delists the product",
)
def takedown_decision(
    request: HttpRequest, payload: TakedownDecisionIn, notice_id: int = Path(..., ge=1, le=MAX_ID)
):
    notice = takedowns.takedown_decide(
        reviewer=_user(request), notice_id=notice_id, uphold=payload.uphold, reason=payload.reason
    )
    return takedown_out(notice)


@router.post(
    "/copyright/passports/scan",
    auth=None,
    response={200: PassportScanOut, **ERRORS},
    summary="Scan a passport's QR payload: verified first (422 passport_invalid records nothing), "
    "then the scan is recorded and the provenance trail returned with each step's proof status",
)
def passport_scan(request: HttpRequest, payload: PassportScanIn):
    from yaji.copyright import passports

    result = passports.passport_scan(
        token=payload.token, city=payload.city, ip=request.META.get("REMOTE_ADDR") or ""
    )
    passport = result.passport
    checkpoint = selectors.checkpoint_covering(index=selectors.log_size() - 1)
    if checkpoint is None or checkpoint.size < selectors.log_size():
        checkpoint = services.checkpoint_create() or checkpoint
    return {
        "serial": passport.serial,
        "status": passport.status,
        "product_id": passport.design.product_id,
        "number": passport.number,
        "design_registration_id": passport.design.registration_id,
        "trail": selectors.passport_trail(passport=passport, checkpoint=checkpoint),
        "flags": result.flags,
        "checkpoint_size": checkpoint.size if checkpoint else None,
    }
