"""A payee name must never make a batch's bank-file job fail: a provider renamed ``=SUM(1,1)``
before names were checked (written directly, as old data would be) is paid through a bank file
where the name is written inert (a leading ', OWASP's rule); names are refused at their source."""
from __future__ import annotations

import csv
import io

import pytest
import time_machine
from sqlalchemy import select, update

from tests.payments.conftest import TEST_NOW, World
from voucher.applications.models import TrialApplication
from voucher.documents.models import Document, JobRecord
from voucher.enterprises.models import Organisation
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.payments import services
from voucher.storage import read_bytes


def test_a_payee_renamed_to_a_formula_does_not_block_the_batch(jobs):
    app = jobs.app
    with time_machine.travel(TEST_NOW, tick=True), app.test_request_context():
        world = World()
        trial = world.kick_off(world.trial("200000.00"))
        world.announce()
        db.session.execute(update(Organisation).where(Organisation.id == world.provider_org.id)
                           .values(name="=SUM(1,1)"))
        db.session.expire_all()
        advance = world.approved("trial_application", trial.application_id, "advance")
        assert advance.payee_name == "=SUM(1,1)"
        batch = world.batch(advance)  # asks for the bank file and the summary
        db.session.commit()
        batch_id, ref, account, code = batch.id, advance.reference, advance.bank_account, advance.bank_code
        number = db.session.get(TrialApplication, trial.application_id).number
    jobs.drain()
    records = db.session.scalars(select(JobRecord).where(JobRecord.subject_type == "payment_batch",
                                                         JobRecord.subject_id == batch_id)).all()
    assert {r.kind: r.status for r in records} == {"bank_file": "succeeded", "batch_summary": "succeeded"}
    [bank_file] = db.session.scalars(select(Document).where(Document.kind == "bank_file",
                                                            Document.subject_id == batch_id))
    rows = list(csv.reader(io.StringIO(read_bytes(bank_file.stored_file).decode("utf-8-sig"))))
    assert rows[1] == ["'=SUM(1,1)", account, "Bank of Wenzhou", code, "60000.00", f"试用券预拨款 {number} {ref}"]


@pytest.mark.parametrize("field,value", [("payee_name", "=SUM(1,1)"), ("payee_name", "@cmd"),
                                         ("bank_name", "+Bank"), ("bank_name", "-1")])
def test_the_payee_and_bank_name_of_a_disbursement_refuse_a_leading_formula_character(world, field, value):
    trial = world.kick_off(world.trial("100000.00"))
    world.announce()
    d = world.prepare("trial_application", trial.application_id, "advance")
    fields = {"payee_name": d.payee_name, "bank_name": d.bank_name, "bank_account": d.bank_account, field: value}
    with pytest.raises(ValidationFailed) as err:
        services.update_bank_details(world.finance_a.actor(), d.id, **fields)
    assert list(err.value.fields) == [field] and "formula" in err.value.fields[field]
    db.session.refresh(d)
    assert getattr(d, field) != value
