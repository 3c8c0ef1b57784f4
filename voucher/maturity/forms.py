"""The self-assessment's forms: taking it (the answers are read per question, the form carries the
CSRF token) and publishing a new questionnaire version (the questions as JSON)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from voucher.forms import VoucherForm
from voucher.maturity.services import NOTE_MAX


class TakeForm(VoucherForm):
    pass


class PublishForm(VoucherForm):
    content = TextAreaField(_l("Questions (JSON)"), validators=[InputRequired(_l("The questions are required."))],
                            render_kw={"rows": 18, "spellcheck": "false"})
    note = StringField(_l("What changed"), validators=[Length(max=NOTE_MAX, message=_l("At most %(max)d characters."))])
