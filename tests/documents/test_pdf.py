"""The pure renderers: text extracted back from the PDFs, the embedded CJK font, a rendered page,
the capital numerals, the bank file format."""
from __future__ import annotations

import io
import re
from decimal import Decimal

import pypdf
import pytest

from tests.documents.conftest import ISSUED, order_data
from voucher.documents import pdf
from voucher.documents.pdf import (
    AuditDossierData,
    BankLine,
    BatchSummaryData,
    CalculationSection,
    ChronologyEntry,
    FundUseRow,
    ProgrammeReportData,
    amount_in_capitals,
    audit_dossier_pdf,
    batch_summary_pdf,
    payment_order_pdf,
    programme_report_pdf,
)

REFERENCE_AMOUNTS = [
    (1, "100000.00", "¥100,000.00", "壹拾万元整"),
    (2, "40000.00", "¥40,000.00", "肆万元整"),
    (3, "123.45", "¥123.45", "壹佰贰拾叁元肆角伍分"),
]


def text_of(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def compact(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("amount, capitals", [("100000", "壹拾万元整"), ("40000", "肆万元整"),
                                              ("123.45", "壹佰贰拾叁元肆角伍分"), ("1000.05", "壹仟元零伍分")])
def test_capital_numerals_of_the_reference_amounts(amount, capitals):
    assert amount_in_capitals(Decimal(amount)) == capitals
    assert amount_in_capitals(Decimal(amount).quantize(Decimal("0.01"))) == capitals
    assert amount_in_capitals(amount) == capitals


def test_capital_numerals_refuse_floats_extra_decimals_and_negatives():
    with pytest.raises(TypeError):
        amount_in_capitals(100000.0)
    with pytest.raises(ValueError):
        amount_in_capitals(Decimal("1.005"))
    with pytest.raises(ValueError):
        amount_in_capitals(Decimal("-1.00"))


@pytest.mark.parametrize("subject_id, amount, figures, capitals", REFERENCE_AMOUNTS)
def test_payment_order_text_has_payee_amount_in_figures_and_capitals_and_code(subject_id, amount, figures, capitals):
    data = order_data(subject_id, code="7KQ3MX9TPA", url="http://127.0.0.1:5000/verify/7KQ3MX9TPA")
    assert data.amount == Decimal(amount)
    text = compact(text_of(payment_order_pdf(data)))
    assert compact(data.payee_name) in text
    assert figures in text
    assert capitals in text
    assert "7KQ3MX9TPA" in text
    assert data.bank_account in text and compact(data.bank_name) in text
    assert "张三" in text and "李四" in text  # approval trail
    assert "按分四舍五入" in text  # the working


def _fonts(data: bytes) -> list:
    reader = pypdf.PdfReader(io.BytesIO(data))
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            found.append((str(font["/BaseFont"]), descriptor.get_object() if descriptor else None))
    return found


def test_payment_order_embeds_the_cjk_truetype_font():
    fonts = _fonts(payment_order_pdf(order_data(1)))
    embedded = [(name, d) for name, d in fonts if d is not None and "/FontFile2" in d]
    assert embedded, fonts
    assert any("WenQuanYi" in name or "WQYMicroHei" in name for name, _ in embedded)


def _ink_in_box(image, box, page_height, scale):
    """Dark pixels inside a PDF-space box (left, bottom, right, top) of a rendered page."""
    left, bottom, right, top = box
    crop = image.crop((int(left * scale) - 1, int((page_height - top) * scale) - 1,
                       int(right * scale) + 1, int((page_height - bottom) * scale) + 1))
    return sum(crop.histogram()[:128])


def test_payment_order_page_renders_visible_text():
    import pypdfium2

    scale = 2
    document = pypdfium2.PdfDocument(payment_order_pdf(order_data(1)))
    page = document[0]
    image = page.render(scale=scale).to_pil().convert("L")
    _, page_height = page.get_size()
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    for needle in ("壹拾万元整", "温州智造科技有限公司", "¥100,000.00"):
        start = text.index(needle)
        boxes = [textpage.get_charbox(i) for i in range(start, start + len(needle))]
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        ink = _ink_in_box(image, box, page_height, scale)
        # Each glyph leaves ink where the text layer says it is (a missing font renders blank boxes).
        assert ink > 15 * len(needle), f"{needle!r}: only {ink} dark pixels in its box {box}"


def test_payment_order_carries_a_qr_code_image():
    reader = pypdf.PdfReader(io.BytesIO(payment_order_pdf(order_data(1))))
    xobjects = reader.pages[0]["/Resources"].get("/XObject") or {}
    images = [x.get_object() for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image"]
    assert images and all(int(img["/Width"]) >= 21 for img in images)  # a QR code is at least 21 modules


def test_invariant_output_is_byte_identical_and_differs_by_code():
    first = payment_order_pdf(order_data(1, code="AAAAA22222"), invariant=True)
    assert first == payment_order_pdf(order_data(1, code="AAAAA22222"), invariant=True)
    assert first != payment_order_pdf(order_data(1, code="BBBBB33333"), invariant=True)


def test_every_fixed_label_has_its_chinese_entry_in_the_catalogue():
    from voucher.i18n import merged_catalog

    catalog = merged_catalog()
    missing = [key for key, text in pdf.LABEL_TEXTS.items()
               if not (catalog.get(text, context=pdf.LABEL_CONTEXT) and catalog.get(text, context=pdf.LABEL_CONTEXT).string)]
    assert missing == []
    zh, en = pdf.labels_for("zh"), pdf.labels_for("en")
    assert set(zh) == set(en) == set(pdf.LABEL_TEXTS)
    assert dict(en) == pdf.LABEL_TEXTS
    # Every Chinese label is Chinese, and keeps the English one's placeholders.
    assert all(re.search(r"[\u4e00-\u9fff]", zh[key]) for key in zh), zh
    assert all(re.findall(r"\{\w+\}", zh[key]) == re.findall(r"\{\w+\}", en[key]) for key in zh)


def test_documents_read_back_with_the_labels_of_their_language():
    zh = compact(text_of(payment_order_pdf(order_data(1, lang="zh"))))
    en = compact(text_of(payment_order_pdf(order_data(1, lang="en"))))
    for key in ("payment_order", "payee", "bank", "account", "amount_figures", "approvals", "verification_code"):
        assert compact(pdf.labels_for("zh")[key]) in zh and compact(pdf.labels_for("en")[key]) in en, key
    # A PDF label is its own catalogue entry: the order says 收款单位（户名）, not the screen's 收款方.
    assert "收款单位（户名）" in zh and "第1页" in zh and "Disbursementorder" not in zh
    assert "Page1" in en and "资金拨付单" not in en


def test_fixed_labels_exist_in_both_languages_and_english_documents_use_them():
    text = compact(text_of(payment_order_pdf(order_data(1, lang="en"))))
    assert "Disbursementorder" in text and "Amountinfigures" in text and "壹拾万元整" in text
    with pytest.raises(ValueError):
        payment_order_pdf(order_data(1, lang="fr"))


def test_payee_names_with_markup_characters_are_printed_literally():
    from dataclasses import replace

    data = replace(order_data(1), payee_name="A&B <Tech> Co.")
    assert "A&B<Tech>Co." in compact(text_of(payment_order_pdf(data)))


def test_audit_dossier_has_chronology_calculations_evaluations_and_chain_head():
    head = "ab12" * 16
    data = AuditDossierData(
        reference="APP-2026-000007", title="温州某鞋业 — 智能仓储", programme_name="2026 试点", chain_head=head,
        issued_at=ISSUED, verification_code="DOSSIER234", verification_url="http://x/verify/DOSSIER234",
        chronology=[ChronologyEntry(ISSUED, "张三", "application.submit", {"status": "draft"},
                                    {"status": "submitted"}, None),
                    ChronologyEntry(ISSUED, "王五", "application.return", {"status": "submitted"},
                                    {"status": "returned"}, "基线数据不完整")] * 30,
        calculations=[CalculationSection("机器人补贴", ["2 × ¥150,000.00 × 20% = ¥60,000.00"])],
        evaluation_header=["评价人", "总分", "结论"], evaluation_rows=[["赵六", "88.5", "通过"]],
        approvals=[("审批（科员）", "李四", ISSUED)])
    output = audit_dossier_pdf(data)
    text = compact(text_of(output))
    assert len(pypdf.PdfReader(io.BytesIO(output)).pages) >= 2  # 60 events run over pages
    assert head in text
    assert "status:submitted→returned" in text and "基线数据不完整" in text
    assert "¥60,000.00" in text and "赵六" in text and "88.5" in text and "DOSSIER234" in text


def test_programme_report_has_the_figures_and_charts_drawn_from_them():
    data = ProgrammeReportData(
        programme_name="2026 试点", as_of=ISSUED, budget=Decimal("50000000.00"), reserved=Decimal("1200000.00"),
        paid=Decimal("300000.00"), issued_at=ISSUED,
        by_kind=[FundUseRow("试用券", Decimal("1000000.00"), Decimal("200000.00")),
                 FundUseRow("贷款贴息", Decimal("200000.00"), Decimal("100000.00"))],
        by_district=[FundUseRow("鹿城区", Decimal("500000.00"), Decimal("100000.00")),
                     FundUseRow("瓯海区", Decimal("700000.00"), Decimal("200000.00"))],
        by_industry=[FundUseRow("泵阀", Decimal("900000.00"), Decimal("250000.00"))],
        trials_passed=5, trials_failed=1, trials_pending=3, adopted=4, adoption_decided=6)
    text = compact(text_of(programme_report_pdf(data)))
    assert "¥48,500,000.00" in text  # available = budget − reserved − paid
    assert "¥1,500,000.00" in text and "鹿城区" in text and "泵阀" in text
    assert "66.7%" in text  # adoption 4 of 6
    # The pie legends carry the shares computed from the data: kinds 1.2M / 0.3M, outcomes 5 / 1 / 3.
    assert "试用券80.0%" in text and "贷款贴息20.0%" in text
    assert "通过55.6%" in text and "未通过11.1%" in text and "待评价33.3%" in text


def test_programme_report_without_data_still_renders():
    data = ProgrammeReportData(programme_name="空", as_of="2026-01-01", budget=Decimal("100.00"),
                               reserved=Decimal("0.00"), paid=Decimal("0.00"), issued_at=ISSUED, lang="en")
    text = compact(text_of(programme_report_pdf(data)))
    assert "Nodatayet" in text and "¥100.00" in text


def test_batch_summary_totals_in_figures_and_capitals():
    lines = [BankLine("温州智造科技有限公司", "温州银行", "6222000011112222", Decimal("40000.00"), "DSB-1"),
             BankLine("瓯海泵阀", "工商银行", "6222000033334444", Decimal("123.45"), "DSB-2")]
    data = BatchSummaryData(reference="PB-2026-0001", programme_name="2026 试点", prepared_by="张三",
                            prepared_at=ISSUED, issued_at=ISSUED, lines=lines)
    assert data.total == Decimal("40123.45")
    text = compact(text_of(batch_summary_pdf(data)))
    assert "¥40,123.45" in text and "肆万零壹佰贰拾叁元肆角伍分" in text
    assert "PB-2026-0001" in text and "张三" in text and "6222000033334444" in text




def _font_programs(data: bytes) -> list[bytes]:
    """The embedded font subsets' programs (FontFile2), decompressed, in the document's order."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    programs = []
    for name in sorted(fonts):
        descriptor = fonts[name].get_object().get("/FontDescriptor")
        if descriptor is not None and "/FontFile2" in descriptor.get_object():
            programs.append(descriptor.get_object()["/FontFile2"].get_object().get_data())
    return programs


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_payment_orders_share_their_first_font_subset_and_read_back_exactly(lang):
    """Issue 15: a payment order first fills the font's first subset with fixed characters, so the
    process makes and compresses that subset once (``_SubsetCache``); the document's own characters
    go into a later subset.  Two orders whose payees share no character: the first subset is the same
    bytes, the last ones differ, and every name reads back from its own PDF."""
    first = order_data(1, lang=lang)
    second = order_data(2, lang=lang)
    first = pdf.PaymentOrderData(**{**first.__dict__, "payee_name": "瓯越鼎晟精密机械有限公司", "bank_name": "乐清农商银行柳市支行"})
    second = pdf.PaymentOrderData(**{**second.__dict__, "payee_name": "鸿鹄翱翔光电股份公司", "bank_name": "苍南县龙港邮储支行"})
    a, b = payment_order_pdf(first), payment_order_pdf(second)
    programs_a, programs_b = _font_programs(a), _font_programs(b)
    assert len(programs_a) >= 2 and programs_a[0] == programs_b[0] and programs_a[-1] != programs_b[-1]
    for data, order in ((a, first), (b, second)):
        text = "".join(text_of(data).split())
        for value in (order.payee_name, order.bank_name, order.reference, order.bank_account):
            assert value in text


def test_the_subset_cache_gives_the_bytes_reportlab_makes(monkeypatch):
    """A payment order rendered with its subsets from the cache is byte for byte the order rendered
    with every subset made afresh."""
    pdf.register_font()
    cache = pdf.pdfmetrics.getFont(pdf.FONT_NAME).face._voucher_subsets
    data = order_data(3)
    payment_order_pdf(data, invariant=True)
    cached = payment_order_pdf(data, invariant=True)  # every subset from the cache now
    monkeypatch.setattr(cache, "_programs", {})
    monkeypatch.setattr(cache, "_compressed", {})
    monkeypatch.setattr(cache, "LIMIT", 0)  # one entry kept at most: each subset made and compressed again
    fresh = payment_order_pdf(data, invariant=True)
    assert cached == fresh
