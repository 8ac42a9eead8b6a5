"""Registering works into the log, checkpoints, proofs, certificates and the audit."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from yaji.copyright import merkle, selectors, services, signing
from yaji.copyright.audit import log_audit
from yaji.copyright.certificates import CertificateError, certificate_verify
from yaji.copyright.errors import (
    AlreadyRegistered,
    ContentRegisteredByOther,
    ContentUnreadable,
    WorkNotRegistrable,
)
from yaji.copyright.log_keys import log_origin, log_public_key
from yaji.copyright.models import (
    CreatorKey,
    DuplicateCase,
    LogEntry,
    LogImmutable,
    LogNode,
    Registration,
)
from yaji.copyright.statements import statement_parse
from yaji.copyright.tests.factories import creator, design_work, registered

pytestmark = pytest.mark.django_db


def test_registering_a_design_appends_a_signed_leaf_without_personal_data():
    author = creator(display_name="李清照", email="li@example.com")
    work = design_work(author, seed=3)
    registration = services.work_register(user=author, work_id=work.pk)

    assert registration.status == Registration.Status.REGISTERED
    entry = registration.entry
    assert entry.index == 0
    assert entry.leaf_hash == merkle.leaf_hash(entry.leaf.encode()).hex()
    statement = statement_parse(entry.leaf.encode())
    key = CreatorKey.objects.get(user=author)
    assert statement["author"] == key.did.strip() and key.did.startswith("did:key:z6Mk")
    assert statement["work_id"] == work.pk and statement["work_kind"] == "design"
    with work.media.open("rb") as f:
        import hashlib

        assert statement["content_sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert statement["dhash"] and statement["phash_mirror"]
    for private in ("李清照", "li@example.com", "user", "registrant", "email"):
        assert private not in entry.leaf
    # the custodial seed is encrypted at rest
    raw = connection.cursor()
    raw.execute("SELECT private_seed FROM copyright_creatorkey WHERE user_id = %s", [author.pk])
    assert raw.fetchone()[0].startswith("v1:")


def test_indexes_are_gapless_and_the_root_matches_a_recomputation():
    author = creator()
    leaves = []
    for seed in range(5):
        leaves.append(registered(author, seed=seed).entry.leaf.encode())
    assert list(LogEntry.objects.values_list("index", flat=True)) == [0, 1, 2, 3, 4]
    assert LogNode.objects.count() == 3  # 1/0, 1/1, 2/0
    edge = merkle.CompactRange()
    for leaf in leaves:
        edge.append(merkle.leaf_hash(leaf))
    checkpoint = services.checkpoint_create()
    assert checkpoint.size == 5 and checkpoint.root_hash == edge.root().hex()
    assert selectors.tree_root(size=5) == edge.root()
    body = signing.Checkpoint(
        origin=log_origin(), size=5, root=edge.root(), timestamp=checkpoint.timestamp
    )
    assert signing.checkpoint_verify(log_public_key(), body, signing.unb64(checkpoint.signature))
    # unchanged head: no second checkpoint
    assert services.checkpoint_create().pk == checkpoint.pk


def test_every_proof_from_the_database_verifies():
    author = creator()
    for seed in range(7):
        registered(author, seed=seed)
    services.checkpoint_create()
    roots = {n: selectors.tree_root(size=n) for n in range(8)}
    for size in range(1, 8):
        for index in range(size):
            leaf = bytes.fromhex(LogEntry.objects.get(index=index).leaf_hash)
            proof = selectors.inclusion_proof(index=index, size=size)
            assert merkle.verify_inclusion(leaf, index, size, proof, roots[size])
        for first in range(size + 1):
            proof = selectors.consistency_proof(first=first, second=size)
            assert merkle.verify_consistency(first, size, roots[first], roots[size], proof)


def test_refusals_record_nothing():
    author, other = creator(), creator()
    work = design_work(author, seed=9)
    services.work_register(user=author, work_id=work.pk)
    with pytest.raises(AlreadyRegistered):
        services.work_register(user=author, work_id=work.pk)
    with pytest.raises(WorkNotRegistrable):  # someone else's work
        services.work_register(user=other, work_id=work.pk)
    with pytest.raises(WorkNotRegistrable):
        services.work_register(user=author, work_id=10**12)
    # the very same file, published again by another creator
    copy = design_work(other, seed=9)
    with pytest.raises(ContentRegisteredByOther):
        services.work_register(user=other, work_id=copy.pk)
    # a corrupt "image" (the community app checked only its magic bytes)
    broken = design_work(author, seed=10)
    broken.media.storage.save(
        broken.media.name, __import__("io").BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 50)
    )
    with broken.media.storage.open(broken.media.name, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + b"0" * 50)
    with pytest.raises(ContentUnreadable):
        services.work_register(user=author, work_id=broken.pk)
    assert LogEntry.objects.count() == 1
    assert Registration.objects.count() == 1


def test_a_near_duplicate_by_another_author_waits_for_a_reviewer():
    from yaji.copyright.tests.factories import reviewer

    original = registered(creator(), seed=4)
    thief = creator()
    mirrored = design_work(thief, seed=4, variant="mirrored")
    held = services.work_register(user=thief, work_id=mirrored.pk)
    assert held.status == Registration.Status.PENDING_REVIEW and held.entry is None
    case = DuplicateCase.objects.get(registration=held)
    assert case.matched == original and case.distance <= 4
    assert LogEntry.objects.count() == 1

    services.duplicate_case_decide(
        reviewer=reviewer(), case_id=case.pk, infringing=True, reason="镜像翻转的抄袭"
    )
    held.refresh_from_db()
    assert held.status == Registration.Status.REFUSED and LogEntry.objects.count() == 1


def test_a_cleared_near_duplicate_is_appended():
    from yaji.copyright.tests.factories import reviewer

    registered(creator(), seed=5)
    other = creator()
    similar = design_work(other, seed=5, variant="cropped_5%")
    held = services.work_register(user=other, work_id=similar.pk)
    case = DuplicateCase.objects.get(registration=held)
    services.duplicate_case_decide(reviewer=reviewer(), case_id=case.pk, infringing=False)
    held.refresh_from_db()
    assert held.status == Registration.Status.REGISTERED and held.entry.index == 1


def test_unrelated_images_are_not_held():
    registered(creator(), seed=6)
    other = creator()
    work = design_work(other, seed=7)
    assert services.work_register(user=other, work_id=work.pk).status == "registered"


def test_log_rows_refuse_changes_in_the_orm_and_the_database():
    registration = registered(creator(), seed=1)
    entry = registration.entry
    entry.leaf = entry.leaf.replace("design", "image")
    with pytest.raises(LogImmutable):
        entry.save()
    with pytest.raises(LogImmutable):
        LogEntry.objects.filter(pk=entry.pk).update(leaf="x")
    with pytest.raises(LogImmutable):
        LogEntry.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE copyright_logentry SET leaf = 'x' WHERE id = %s", [entry.pk])


def _guards_off(cursor) -> None:  # type: ignore[no-untyped-def]
    """What an attacker with database access does first (undone by the test's rollback)."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off
    else:
        cursor.execute("DROP TRIGGER copyright_logentry_append_only")


def _certificate(registration: Registration) -> dict:
    return services.certificate_issue(registration=registration)


def test_a_certificate_verifies_offline_and_any_tampering_fails():
    author = creator()
    for seed in range(3):
        registered(author, seed=seed)
    registration = Registration.objects.get(entry__index=1)
    document = _certificate(registration)
    verdict = certificate_verify(document, public_key=log_public_key(), origin=log_origin())
    assert verdict.index == 1 and verdict.tree_size == 3

    def tampered(mutate):  # type: ignore[no-untyped-def]
        doc = json.loads(json.dumps(document))
        mutate(doc)
        return doc

    cases = {
        "not_included": lambda d: d["entry"].update(
            leaf=d["entry"]["leaf"].replace('"work_kind":"design"', '"work_kind":"image"')
        ),
        "bad_checkpoint_signature": lambda d: d["checkpoint"].update(
            body=d["checkpoint"]["body"].replace("\n3\n", "\n4\n")
        ),
        "proof_mismatch": lambda d: d["inclusion_proof"].update(leaf_index=0),
        "malformed": lambda d: d["inclusion_proof"].update(hashes=["not base64!"]),
    }
    for code, mutate in cases.items():
        with pytest.raises(CertificateError) as exc:
            certificate_verify(tampered(mutate), public_key=log_public_key())
        assert exc.value.code == code, code
    # a proof hash flipped: not included
    doc = tampered(lambda d: None)
    first = signing.unb64(doc["inclusion_proof"]["hashes"][0])
    doc["inclusion_proof"]["hashes"][0] = signing.b64(bytes([first[0] ^ 1]) + first[1:])
    with pytest.raises(CertificateError) as exc:
        certificate_verify(doc, public_key=log_public_key())
    assert exc.value.code == "not_included"
    # another log's key: the checkpoint signature fails
    stranger = signing.public_bytes(signing.Ed25519PrivateKey.generate())
    with pytest.raises(CertificateError) as exc:
        certificate_verify(document, public_key=stranger)
    assert exc.value.code == "bad_checkpoint_signature"


def test_verify_command_exits_non_zero_on_a_tampered_certificate(tmp_path, capsys):
    registration = registered(creator(), seed=2)
    document = _certificate(registration)
    good = tmp_path / "cert.json"
    good.write_text(json.dumps(document))
    call_command("verify", str(good))
    assert "VALID certificate" in capsys.readouterr().out
    document["entry"]["leaf"] = document["entry"]["leaf"].replace('"v":1', '"v":1 ')
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="INVALID certificate"):
        call_command("verify", str(bad))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("verify", str(tmp_path / "missing.json"))


def test_the_audit_passes_on_a_clean_log_and_reports_every_kind_of_damage():
    author = creator()
    for seed in range(4):
        registered(author, seed=seed)
    services.checkpoint_create()
    registered(author, seed=11)
    registered(author, seed=12)
    services.checkpoint_create()
    report = log_audit(public_key=log_public_key(), origin=log_origin())
    assert report.ok, report.problems
    assert (report.leaves, report.checkpoints) == (6, 2)
    call_command("verify_log")

    # flip one byte of a stored leaf behind the guards' back
    with transaction.atomic():
        with connection.cursor() as cursor:
            _guards_off(cursor)
            cursor.execute(
                'UPDATE copyright_logentry SET leaf = REPLACE(leaf, \'"v":1\', \'"v":2\') WHERE "index" = 2'
            )
        report = log_audit(public_key=log_public_key(), origin=log_origin())
        assert any("leaf 2" in p for p in report.problems)
        assert any("checkpoint" in p for p in report.problems)
        with pytest.raises(CommandError, match="does NOT verify"):
            call_command("verify_log")
        transaction.set_rollback(True)

    # a wrong signature on a checkpoint
    other_key = signing.b64(signing.seed_of(signing.Ed25519PrivateKey.generate()))
    report = log_audit(
        public_key=signing.public_bytes(signing.private_key_from_seed(signing.unb64(other_key))),
        origin=log_origin(),
    )
    assert sum("signature does not verify" in p for p in report.problems) == 2


def test_the_audit_detects_a_truncated_or_reordered_log():
    author = creator()
    for seed in range(3):
        registered(author, seed=seed)
    services.checkpoint_create()
    with transaction.atomic():
        with connection.cursor() as cursor:
            _guards_off(cursor)
            cursor.execute("UPDATE copyright_registration SET entry_id = NULL, status = 'refused'")
            cursor.execute('DELETE FROM copyright_logentry WHERE "index" = 2')
        report = log_audit(public_key=log_public_key(), origin=log_origin())
        assert any("only 2 leaves" in p or "root" in p for p in report.problems), report.problems
        transaction.set_rollback(True)
    with transaction.atomic():
        with connection.cursor() as cursor:
            _guards_off(cursor)
            # reorder: leaves 0 and 1 swap places (each still hashes correctly)
            cursor.execute(
                'SELECT "index", leaf, leaf_hash FROM copyright_logentry WHERE "index" IN (0, 1) ORDER BY "index"'
            )
            (_, leaf0, hash0), (_, leaf1, hash1) = cursor.fetchall()
            for index, leaf, digest in ((0, leaf1, hash1), (1, leaf0, hash0)):
                cursor.execute(
                    'UPDATE copyright_logentry SET leaf = %s, leaf_hash = %s WHERE "index" = %s',
                    [leaf, digest, index],
                )
        report = log_audit(public_key=log_public_key(), origin=log_origin())
        assert any("signed root differs" in p for p in report.problems), report.problems
        assert not any(p.startswith("leaf") for p in report.problems)  # each leaf is fine alone
        transaction.set_rollback(True)
