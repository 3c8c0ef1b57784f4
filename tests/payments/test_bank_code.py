"""The bank code (联行号): copied from the payee's profile when a disbursement is prepared, bound
into the approval, editable by finance (12 digits), and required before a disbursement goes into a
payment batch (the bank file needs it)."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from voucher.enterprises.models import Organisation
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.payments import services


def _details(d, **overrides):
    fields = {"payee_name": d.payee_name, "bank_name": d.bank_name, "bank_account": d.bank_account}
    fields.update(overrides)
    return fields


def test_preparing_copies_the_payees_bank_code_and_the_approval_is_bound_to_it(world):
    trial = world.kick_off(world.trial("100000.00"))
    world.announce()
    d = world.approved("trial_application", trial.application_id, "advance")
    assert d.bank_code == world.provider_org.bank_code and len(d.bank_code) == 12
    assert services.approval_valid(d)
    services.update_bank_details(world.finance_a.actor(), d.id, **_details(d, bank_code="102333000017"))
    db.session.refresh(d)
    assert d.bank_code == "102333000017" and d.status == "prepared" and not services.approval_valid(d)


@pytest.mark.parametrize("code", ["31333300001", "3133330000171", "31333300001X"])
def test_a_bank_code_that_is_not_12_digits_is_refused_naming_the_field(world, code):
    trial = world.kick_off(world.trial("100000.00"))
    world.announce()
    d = world.prepare("trial_application", trial.application_id, "advance")
    with pytest.raises(ValidationFailed) as err:
        services.update_bank_details(world.finance_a.actor(), d.id, **_details(d, bank_code=code))
    assert list(err.value.fields) == ["bank_code"] and "12 digits" in err.value.fields["bank_code"]


def test_a_disbursement_without_a_bank_code_is_payable_but_cannot_go_into_a_batch(world):
    db.session.execute(update(Organisation).where(Organisation.id == world.provider_org.id).values(bank_code=None))
    db.session.expire_all()
    trial = world.kick_off(world.trial("100000.00"))
    world.announce()
    d = world.approved("trial_application", trial.application_id, "advance")
    assert d.bank_code is None and services.approval_valid(d)  # an approval without a code stays valid
    with pytest.raises(ValidationFailed) as err:
        world.batch(d)
    assert d.reference in err.value.render(lambda s: s) and "bank code" in err.value.render(lambda s: s)
    services.update_bank_details(world.finance_a.actor(), d.id, **_details(d, bank_code="313 333 000 017"))
    db.session.refresh(d)
    assert d.bank_code == "313333000017"
    d = world.approve(d)
    assert world.batch(d).line_count == 1
