"""The officer's edit form of a guide: the texts in both languages and three row lists
(materials, policy documents, questions).  A row left blank is dropped; the service checks the
rest and names the field, the row and the limit."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import FieldList, FormField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from voucher.forms import VoucherForm
from voucher.guides import services
from voucher.guides.content import FORMATS, Basis, Faq, GuideContent, Material

BLANK_ROWS = 2
_LONG = 20000  # a hard stop for pasted text; the service gives the real limits


class _Row(Form):
    IGNORED_FOR_BLANK: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        for f in self:
            if f.short_name in self.IGNORED_FOR_BLANK or f.type in ("BooleanField", "SelectMultipleField"):
                continue
            if isinstance(f.data, str) and f.data.strip():
                return False
        return True


class MaterialRow(_Row):
    IGNORED_FOR_BLANK = ("code",)
    code = HiddenField()
    name_zh = StringField(_l("Name (Chinese)"), validators=[Length(max=_LONG)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=_LONG)])
    required = BooleanField(_l("Required: the application must include it"))
    formats = SelectMultipleField(_l("Accepted formats"), choices=[(k, v[0]) for k, v in FORMATS.items()],
                                  widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                  validate_choice=True)
    note_zh = TextAreaField(_l("Example or description (Chinese)"), validators=[Length(max=_LONG)],
                            render_kw={"rows": 2})
    note_en = TextAreaField(_l("Example or description (English)"), validators=[Length(max=_LONG)],
                            render_kw={"rows": 2})


class BasisRow(_Row):
    title_zh = StringField(_l("Title (Chinese)"), validators=[Length(max=_LONG)])
    title_en = StringField(_l("Title (English)"), validators=[Length(max=_LONG)])
    number = StringField(_l("Document number"), validators=[Length(max=_LONG)],
                         description=_l("e.g. %(example)s", example="工信部联企业〔2011〕300号"))


class FaqRow(_Row):
    question_zh = StringField(_l("Question (Chinese)"), validators=[Length(max=_LONG)])
    question_en = StringField(_l("Question (English)"), validators=[Length(max=_LONG)])
    answer_zh = TextAreaField(_l("Answer (Chinese)"), validators=[Length(max=_LONG)], render_kw={"rows": 2})
    answer_en = TextAreaField(_l("Answer (English)"), validators=[Length(max=_LONG)], render_kw={"rows": 2})


class GuideForm(VoucherForm):
    base_version = HiddenField()
    eligibility_zh = TextAreaField(_l("Who is eligible (Chinese)"), validators=[Length(max=_LONG)],
                                   render_kw={"rows": 6}, description=_l("One condition per line."))
    eligibility_en = TextAreaField(_l("Who is eligible (English)"), validators=[Length(max=_LONG)],
                                   render_kw={"rows": 6}, description=_l("One condition per line."))
    enterprise_pays_zh = TextAreaField(_l("What the enterprise pays itself (Chinese)"),
                                       validators=[Length(max=_LONG)], render_kw={"rows": 3})
    enterprise_pays_en = TextAreaField(_l("What the enterprise pays itself (English)"),
                                       validators=[Length(max=_LONG)], render_kw={"rows": 3})
    contact_phone = StringField(_l("Enquiry phone"), validators=[Length(max=_LONG)],
                                description=_l("e.g. %(example)s", example="0577-88960000"))
    contact_hours_zh = StringField(_l("Enquiry hours (Chinese)"), validators=[Length(max=_LONG)])
    contact_hours_en = StringField(_l("Enquiry hours (English)"), validators=[Length(max=_LONG)])
    materials = FieldList(FormField(MaterialRow), min_entries=1, max_entries=services.MAX_MATERIALS + BLANK_ROWS)
    basis = FieldList(FormField(BasisRow), min_entries=1, max_entries=services.MAX_BASIS + BLANK_ROWS)
    faq = FieldList(FormField(FaqRow), min_entries=1, max_entries=services.MAX_FAQ + BLANK_ROWS)
    change_note = StringField(_l("What changed (shown in the version history)"), validators=[Length(max=_LONG)])

    @classmethod
    def for_content(cls, content: GuideContent, base_version: int) -> "GuideForm":
        data = {
            "base_version": str(base_version),
            "eligibility_zh": content.eligibility_zh, "eligibility_en": content.eligibility_en,
            "enterprise_pays_zh": content.enterprise_pays_zh, "enterprise_pays_en": content.enterprise_pays_en,
            "contact_phone": content.contact_phone, "contact_hours_zh": content.contact_hours_zh,
            "contact_hours_en": content.contact_hours_en,
            "materials": [{"code": m.code, "name_zh": m.name_zh, "name_en": m.name_en, "required": m.required,
                           "formats": list(m.formats), "note_zh": m.note_zh, "note_en": m.note_en}
                          for m in content.materials],
            "basis": [{"title_zh": b.title_zh, "title_en": b.title_en, "number": b.number} for b in content.basis],
            "faq": [{"question_zh": f.question_zh, "question_en": f.question_en, "answer_zh": f.answer_zh,
                     "answer_en": f.answer_en} for f in content.faq],
        }
        form = cls(formdata=None, data=data)
        form.add_blank_rows()
        return form

    def add_blank_rows(self) -> None:
        for rows, limit in ((self.materials, services.MAX_MATERIALS), (self.basis, services.MAX_BASIS),
                            (self.faq, services.MAX_FAQ)):
            filled = len([e for e in rows.entries if not e.form.is_blank()])
            while len(rows.entries) < min(filled + BLANK_ROWS, limit + BLANK_ROWS):
                rows.append_entry()

    def base(self) -> int:
        from voucher.pagination import bounded_int

        return bounded_int(self.base_version.data) or 0

    def content(self) -> GuideContent:
        def filled(rows):
            return [e.form for e in rows.entries if not e.form.is_blank()]

        return GuideContent(
            eligibility_zh=self.eligibility_zh.data or "", eligibility_en=self.eligibility_en.data or "",
            enterprise_pays_zh=self.enterprise_pays_zh.data or "", enterprise_pays_en=self.enterprise_pays_en.data or "",
            contact_phone=self.contact_phone.data or "", contact_hours_zh=self.contact_hours_zh.data or "",
            contact_hours_en=self.contact_hours_en.data or "",
            materials=tuple(Material(r.name_zh.data or "", r.name_en.data or "", bool(r.required.data),
                                     tuple(r.formats.data or ()), r.note_zh.data or "", r.note_en.data or "",
                                     r.code.data or "") for r in filled(self.materials)),
            basis=tuple(Basis(r.title_zh.data or "", r.title_en.data or "", r.number.data or "")
                        for r in filled(self.basis)),
            faq=tuple(Faq(r.question_zh.data or "", r.question_en.data or "", r.answer_zh.data or "",
                          r.answer_en.data or "") for r in filled(self.faq)))
