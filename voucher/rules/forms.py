"""Forms: a draft rule change (every parameter, prefilled from the base version, and a note), publishing
a draft with its start day (confirmed), discarding it (with the reason)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, TextAreaField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from voucher.forms import VoucherForm
from voucher.programmes.forms import PARAMETER_GROUPS, _make_param_field
from voucher.programmes.services import PARAMETER_SPECS


class DraftForm(VoucherForm):
    note = TextAreaField(_l("What changes and why"), validators=[Optional(), Length(max=1000)],
                         description=_l("Shown beside the version once published."))

    def param_groups(self):
        return [(legend, [getattr(self, name) for name, _label, _help in items]) for legend, items in PARAMETER_GROUPS]

    def parameters(self) -> dict:
        return {name: getattr(self, name).data for name in PARAMETER_SPECS}


for _legend, _items in PARAMETER_GROUPS:
    for _name, _label, _help in _items:
        setattr(DraftForm, _name, _make_param_field(_name, _label, _help))


class PublishForm(VoucherForm):
    effective_from = DateField(_l("In force from"), validators=[InputRequired(_l("Enter the day the new version starts to apply."))],
                               description=_l("Decisions made from this day use the new version; earlier ones keep theirs."))
    confirm = BooleanField(_l("I have read the replay and publish this version; it cannot be changed afterwards."),
                           validators=[DataRequired(_l("Tick the box to confirm."))])


class DiscardForm(VoucherForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give the reason.")), Length(max=1000)])
