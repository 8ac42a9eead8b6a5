"""The demo world's copyright chapter leaves something to look at: certificates, passports of
the numbered fan whose steps verify, and one suspicious scan in the clone queue."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from yaji.copyright import selectors
from yaji.copyright.models import CloneCase, Passport, Registration

pytestmark = pytest.mark.django_db


def test_the_demo_has_certificates_passports_and_a_suspicious_scan() -> None:
    call_command("demo_data", buyers=6, minors=2, quiet=True)
    call_command("demo_data", buyers=6, minors=2, quiet=True)  # re-runnable: nothing twice
    assert Registration.objects.filter(status="registered").count() >= 4
    passports = list(Passport.objects.select_related("design__registration__entry"))
    assert passports, "the paid fans carry passports"
    assert CloneCase.objects.filter(status="open").count() == 1
    from yaji.copyright.services import checkpoint_create

    checkpoint = checkpoint_create()
    trail = selectors.passport_trail(passport=passports[0], checkpoint=checkpoint)
    assert [s["kind"] for s in trail] == ["registered", "produced", "sold"]
    assert {s["status"] for s in trail} == {"verified"}
