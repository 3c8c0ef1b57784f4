"""The document renderers: plain data in, bytes out (no Flask, no database).

Every PDF embeds a subset of the vendored WenQuanYi Micro Hei TrueType font (Apache-2.0), so
Chinese text shows in any viewer (reportlab's built-in ``STSong-Light`` CID font is not embedded
and shows blank where the viewer lacks it).  Chinese paragraphs wrap with ``wordWrap="CJK"``.
``invariant=True`` gives byte-identical output for identical input (fixed dates and document id),
for tests.

Fixed labels exist in two languages (``lang="zh"`` or ``"en"``): English in ``LABEL_TEXTS``, Chinese
in the translation catalogue (context "pdf"); data (names, purposes, working lines) is printed as
given, so the caller passes it already in the document's language.

Amounts: ``Decimal`` only, printed in figures as ``¥1,234.50`` and in Chinese capital numerals
with ``cn2an.an2cn(<plain decimal string>, "rmb")`` (never through a float).  Chart geometry is
the only place a float appears: a bar's height is a drawing coordinate, not money.

The bank payment file is written by :mod:`voucher.documents.bank_file` (per-bank layouts).

Over 600 lines, on purpose: the four documents here (and the reconciliation report) share one set
of drawing primitives (header, grids, seal box, verification block, CJK font); each builder is a
short function over them, and the byte-identical ``invariant`` mode depends on them all going
through one place.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
import io
import re
import threading
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import cn2an
from babel.support import Translations
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from voucher.chart_colours import COLOURS, NEUTRAL
from voucher.i18n import LOCALE as CATALOGUE_LOCALE
from voucher.money import format_money

TRANSLATIONS_DIRECTORY = Path(__file__).resolve().parents[1] / "translations"
FONT_NAME = "WQYMicroHei"
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"
TIMEZONE = "Asia/Shanghai"
LANGS = ("zh", "en")
FEN = Decimal("0.01")

_font_lock = threading.Lock()
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def register_font() -> str:
    """Register the embedded CJK font with reportlab once per process; return its name."""
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    with _font_lock:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
            # reportlab registers a second font of the same face as an alias of the first: the
            # cache goes on the font the name resolves to.
            _SubsetCache.install(pdfmetrics.getFont(FONT_NAME).face)
    return FONT_NAME


class _SubsetCache:
    """The embedded font's subsets, made and compressed once per process for each set of characters.

    reportlab embeds a TrueType font as subsets of up to 256 characters, numbered in the order the
    document first uses them, and makes and compresses each subset anew for every document: for a
    payment order the largest cost after layout.  A document that first draws a fixed string
    (:func:`seed_font`) gets the same first subset every time, so its glyph program and compressed
    stream come from here; only the subset of the document's own characters (names, banks) is made
    afresh.  The bytes are identical to what reportlab makes; at most ``LIMIT`` subsets are kept."""

    LIMIT = 32

    def __init__(self, make_subset) -> None:
        self._make_subset = make_subset
        self._programs: dict[tuple, bytes] = {}
        self._compressed: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def install(cls, face) -> None:
        if hasattr(face, "_voucher_subsets"):  # already installed
            return
        cache = cls(face.makeSubset)
        face._voucher_subsets = cache
        face.makeSubset = cache.make_subset
        original_add = face.addSubsetObjects

        def add_subset_objects(doc, fontname, subset):
            ref = original_add(doc, fontname, subset)
            font_file = doc.idToObject.get(f"fontFile:{face.filename}({fontname})")
            if font_file is not None and font_file.filters:
                font_file.filters = [cache]  # the same Flate stream, compressed once per subset
            return ref

        face.addSubsetObjects = add_subset_objects

    def _remember(self, table: dict, key, value) -> None:
        with self._lock:
            if table and len(table) >= self.LIMIT:
                table.pop(next(iter(table)))  # the oldest; the seeded subsets are asked for again at once
            table[key] = value

    def make_subset(self, subset) -> bytes:
        key = tuple(subset)
        program = self._programs.get(key)
        if program is None:
            program = self._make_subset(subset)
            self._remember(self._programs, key, program)
        return program

    # a reportlab stream filter (FlateDecode), for the font program streams
    pdfname = "FlateDecode"

    def encode(self, text: bytes) -> bytes:
        compressed = self._compressed.get(text)
        if compressed is None:
            compressed = zlib.compress(text)
            self._remember(self._compressed, text, compressed)
        return compressed

    def decode(self, encoded: bytes) -> bytes:
        return zlib.decompress(encoded)


# reportlab's first subset of a font holds printable ASCII and 159 other characters (codes 1-31 and
# 128-255); a seed of exactly that many fills it.
_FIRST_SUBSET_SLOTS = 159
# After the labels: the capital numerals of every amount, then the characters most frequent in the
# names of enterprises, banks and programmes.
_SEED_TAIL = ("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整人民币"
              "有限公司科技术股份集团市省区县镇街路号温州杭宁波鹿城瓯海龙湾乐清瑞安永嘉平阳苍南文成泰顺洞头"
              "银行支分农商建设工交通招浙江中国邮储蓄信用合作联社华新电子机械制造智能数字化转型试点年月日"
              "服务软件系统平台云网络信息产业园发展展能源材料汽车配件鞋服装泵阀五金印刷包装食品医药"
              "（）：，。、—¥×第期批次预拨尾款贴息补助机器人工业采购贷利试用券企确认启动按四舍五入核定额")


@functools.lru_cache(maxsize=8)
def _seed(lang: str, keys: tuple[str, ...]) -> str:
    """The characters a document in ``lang`` with the labels ``keys`` draws first: its labels',
    then ``_SEED_TAIL``'s, exactly enough to fill the font's first subset."""
    lb = labels_for(lang)
    chars: list[str] = []
    for text in [*(str(lb[k]) for k in keys), _SEED_TAIL]:
        for ch in text:
            if ord(ch) > 127 and ch not in chars:
                chars.append(ch)
    face = pdfmetrics.getFont(register_font()).face
    chars = [ch for ch in chars if ord(ch) in face.charToGlyph]
    return "".join(chars[:_FIRST_SUBSET_SLOTS])


def seed_font(canvas, lang: str, keys: tuple[str, ...]) -> None:
    """Give the document's first font subset its fixed characters (see :class:`_SubsetCache`)
    before anything is drawn; draws nothing."""
    font = pdfmetrics.getFont(register_font())
    if font.state.get(canvas._doc) is None:  # nothing of this document drawn in the font yet
        font.splitString(_seed(lang, keys), canvas._doc)


# --- amounts ----------------------------------------------------------------------------------

def _exact_amount(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("amounts must not be floats")
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    q = d.quantize(FEN)
    if q != d:
        raise ValueError(f"an amount has at most two decimals: {value!r}")
    return q


def amount_in_figures(value: Decimal | int | str) -> str:
    """``¥100,000.00``: the amount with the yuan sign, thousands separators and two decimals."""
    return format_money(_exact_amount(value))


def amount_in_capitals(value: Decimal | int | str) -> str:
    """The amount in Chinese capital numerals (大写), e.g. 100000 → 壹拾万元整, 123.45 → 壹佰贰拾叁元肆角伍分.

    cn2an's RMB mode is given the exact plain decimal string, never a float; negative amounts
    are refused (a payment document never shows one).
    """
    d = _exact_amount(value)
    if d < 0:
        raise ValueError("a payment amount cannot be negative")
    return cn2an.an2cn(format(d, "f"), "rmb")


# --- data classes -----------------------------------------------------------------------------

# An approval-trail line: (role label, person's name, time).  The time is a datetime (shown in
# Asia/Shanghai time) or a preformatted string.
ApprovalLine = tuple[str, str, "datetime | str | None"]


@dataclass(frozen=True)
class PaymentOrderData:
    """What a payment order shows.  ``working`` are the calculation lines already worded in the
    document's language; ``approvals`` the trail (preparer, approver, ...)."""

    reference: str                       # the disbursement's reference, e.g. "DSB-2026-000012"
    programme_name: str
    payee_name: str
    bank_name: str
    bank_account: str
    amount: Decimal
    purpose: str                         # kind and milestone, e.g. "Trial voucher — 30% advance"
    issued_at: datetime
    verification_code: str
    verification_url: str
    working: Sequence[str] = ()
    approvals: Sequence[ApprovalLine] = ()
    lang: str = "zh"
    enterprise_name: str = ""            # the enterprise the grant is for (a trial voucher pays its provider)
    bank_code: str = ""                  # 联行号 (CNAPS)
    # Netted against the payee's recovery orders (抵扣): the amount, and (order reference, amount).
    offset_amount: Decimal = Decimal("0.00")
    offset_orders: Sequence[tuple[str, Decimal]] = ()

    @property
    def transfer_amount(self) -> Decimal:
        return self.amount - self.offset_amount


@dataclass(frozen=True)
class ChronologyEntry:
    time: datetime | str
    actor: str
    action: str
    before: dict | None = None
    after: dict | None = None
    reason: str | None = None
    change: str | None = None  # the change in words (the builder's); else summarised from before/after


@dataclass(frozen=True)
class CalculationSection:
    title: str
    lines: Sequence[str] = ()


@dataclass(frozen=True)
class AuditDossierData:
    """An application's dossier: the chronology from the audit trail, the calculations, the
    evaluations (a header row plus rows), the approvals and the audit-chain head hash at issue."""

    reference: str                       # the application's reference
    title: str                           # e.g. enterprise — solution
    programme_name: str
    chain_head: str
    issued_at: datetime
    verification_code: str
    verification_url: str
    chronology: Sequence[ChronologyEntry] = ()
    calculations: Sequence[CalculationSection] = ()
    evaluation_header: Sequence[str] = ()
    evaluation_rows: Sequence[Sequence[str]] = ()
    approvals: Sequence[ApprovalLine] = ()
    facts: Sequence[tuple[str, str]] = ()  # extra (label, value) lines under the title
    lang: str = "zh"


@dataclass(frozen=True)
class FundUseRow:
    label: str
    reserved: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class ProgrammeReportData:
    """Fund use by kind, district and industry; trial outcomes; adoption."""

    programme_name: str
    as_of: date | datetime | str
    budget: Decimal
    reserved: Decimal
    paid: Decimal
    issued_at: datetime
    by_kind: Sequence[FundUseRow] = ()
    by_district: Sequence[FundUseRow] = ()
    by_industry: Sequence[FundUseRow] = ()
    trials_passed: int = 0
    trials_failed: int = 0
    trials_pending: int = 0
    adopted: int = 0                     # SMEs that decided to keep paying for the solution
    adoption_decided: int = 0            # SMEs that recorded a decision (adopted or not)
    verification_code: str = ""
    verification_url: str = ""
    lang: str = "zh"
    audit_anchor: str = ""               # the day's published chain head, "day  length:hash"

    @property
    def available(self) -> Decimal:
        return self.budget - self.reserved - self.paid

    @property
    def adoption_rate(self) -> Decimal | None:
        if not self.adoption_decided:
            return None
        return (Decimal(self.adopted) * 100 / Decimal(self.adoption_decided)).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class BankLine:
    """One line of a payment batch (and of the bank file)."""

    payee_name: str
    bank_name: str
    account: str
    amount: Decimal
    reference: str
    bank_code: str = ""                  # 联行号 (CNAPS), 12 digits; the bank file refuses a line without it
    purpose: str = ""                    # 用途 in the bank file, e.g. "试用券尾款 SY-2026-000013 DSB-2026-000012"
    application_number: str = ""         # the grant's application number (受理编号), e.g. "SY-2026-000013"


@dataclass(frozen=True)
class BatchSummaryData:
    reference: str
    programme_name: str
    prepared_by: str
    prepared_at: datetime | str
    issued_at: datetime
    lines: Sequence[BankLine] = ()
    verification_code: str = ""
    verification_url: str = ""
    lang: str = "zh"

    @property
    def total(self) -> Decimal:
        return sum((_exact_amount(line.amount) for line in self.lines), Decimal("0.00"))


# --- fixed labels (both languages) ------------------------------------------------------------

# Context of the labels' entries in the catalogue: a PDF label may read differently from the same
# English word on a page (收款单位（户名） on the order, 收款方 on the screen).
LABEL_CONTEXT = "pdf"

# Label key -> English text, the msgid of its entry (context "pdf") in translations/…/documents.po,
# which holds the Chinese.
LABEL_TEXTS: dict[str, str] = {
    "authority": "Economy and Information Bureau · SME Digital Transformation Vouchers",
    "payment_order": "Disbursement order",
    "reference": "Reference",
    "issued_at": "Issued at",
    "programme": "Programme (fund)",
    "purpose": "Purpose / milestone",
    "payee": "Payee",
    "bank": "Bank",
    "account": "Account number",
    "bank_code": "Bank code (CNAPS)",
    "grant_for": "Enterprise (grant for)",
    "payee_section": "Payee and enterprise",
    "seal_preparer": "Preparer",
    "seal_approver": "Approver",
    "seal_stamp": "Seal",
    "seal_date": "Date:",
    "amount_figures": "Amount in figures",
    "amount_capitals": "Amount in words (Chinese capitals)",
    "grant_amount": "Amount of the grant",
    "offset_amount": "Offset against recovery orders",
    "transfer_figures": "Amount transferred in figures",
    "transfer_capitals": "Amount transferred in words (Chinese capitals)",
    "working": "Calculation",
    "approvals": "Approval trail",
    "role": "Role",
    "name": "Name",
    "time": "Time",
    "verification": "Verification",
    "verification_code": "Verification code",
    "verify_at": "Verify at",
    "verify_note": "Scan the QR code or open the address above and enter the code to see this file's "
                   "SHA-256 digest and whether it is still valid.",
    "none": "Nothing recorded",
    "audit_dossier": "Audit dossier",
    "chronology": "Chronology (audit trail)",
    "actor": "Actor",
    "action": "Action",
    "change": "Change (before → after)",
    "reason": "Reason",
    "calculations": "Calculations",
    "evaluations": "Effect evaluations",
    "chain_head": "Audit-chain head hash at issue",
    "audit_anchor": "Published audit-chain head (day, events:hash)",
    "programme_report": "Programme fund-use report",
    "as_of": "As of",
    "budget": "Budget",
    "reserved": "Reserved",
    "paid": "Paid",
    "available": "Available",
    "by_kind": "By kind of support",
    "by_district": "By district",
    "by_industry": "By industry",
    "kind": "Kind",
    "district": "District",
    "industry": "Industry",
    "total": "Total",
    "trial_outcomes": "Trial outcomes",
    "passed": "Passed",
    "failed": "Failed",
    "pending": "Pending",
    "adoption": "Adoption rate",
    "adoption_text": "{adopted} of {decided} enterprises decided to keep paying for the solution",
    "no_data": "No data yet",
    "batch_summary": "Payment batch summary",
    "prepared_by": "Prepared by",
    "prepared_at": "Prepared at",
    "lines": "Lines",
    "line_no": "#",
    "line_reference": "Payment reference",
    "amount": "Amount",
    "total_figures": "Total in figures",
    "total_capitals": "Total in words (Chinese capitals)",
    "page": "Page {page}",
    "signature_title": "Digitally signed (electronic seal)",
    "signature_time": "Signed {time} (Beijing time)",
}


class Labels(dict):
    """The fixed labels of one document language, key -> text."""

    def __init__(self, lang: str, texts: dict[str, str]) -> None:
        super().__init__(texts)
        self.lang = lang


_labels_lock = threading.Lock()
_labels: dict[str, Labels] = {}


def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":  # English is the source language
        return gettext.NullTranslations()
    translations = Translations.load(str(TRANSLATIONS_DIRECTORY), [CATALOGUE_LOCALE])
    if not isinstance(translations, Translations):  # load() falls back to no translation silently
        raise RuntimeError("the translation catalogue is not compiled: run python -m voucher.i18n")
    return translations


def labels_for(lang: str) -> Labels:
    """The fixed labels in ``lang`` ("zh" or "en"), read from the translation catalogue."""
    if lang not in LANGS:
        raise ValueError(f"unknown document language {lang!r}; use one of {LANGS}")
    with _labels_lock:
        if lang not in _labels:
            translations = _translations(lang)
            _labels[lang] = Labels(lang, {key: translations.pgettext(LABEL_CONTEXT, text)
                                          for key, text in LABEL_TEXTS.items()})
        return _labels[lang]


# --- layout helpers ---------------------------------------------------------------------------

_INK = colors.HexColor("#1f2937")
_RULE = colors.HexColor("#9ca3af")
_SHADE = colors.HexColor("#eef2f7")
_PALETTE = [colors.HexColor(c) for c in NEUTRAL]  # no green, no red: those mean paid/passed and not passed


class _Styles:
    def __init__(self) -> None:
        font = register_font()
        base = dict(fontName=font, textColor=_INK)
        self.body = ParagraphStyle("body", fontSize=9.5, leading=13.5, **base)
        self.body_cjk = ParagraphStyle("body_cjk", parent=self.body, wordWrap="CJK")
        self.small = ParagraphStyle("small", fontSize=8, leading=10.5, **base)
        self.small_cjk = ParagraphStyle("small_cjk", parent=self.small, wordWrap="CJK")
        self.title = ParagraphStyle("title", fontSize=17, leading=22, alignment=TA_CENTER, spaceAfter=4, **base)
        self.authority = ParagraphStyle("authority", fontSize=9, leading=12, alignment=TA_CENTER,
                                        textColor=colors.HexColor("#4b5563"), fontName=font, wordWrap="CJK")
        self.h2 = ParagraphStyle("h2", fontSize=11.5, leading=15, spaceBefore=9, spaceAfter=4, **base)
        self.amount = ParagraphStyle("amount", fontSize=13, leading=17, **base)
        self.amount_cjk = ParagraphStyle("amount_cjk", parent=self.amount, wordWrap="CJK")
        self.right = ParagraphStyle("right", parent=self.body, alignment=TA_RIGHT)

    def p(self, text: object, style: str = "body") -> Paragraph:
        """A paragraph of plain text (escaped), wrapping CJK-style when it contains CJK."""
        s = "" if text is None else str(text)
        chosen = getattr(self, style)
        if _CJK.search(s) and hasattr(self, style + "_cjk"):
            chosen = getattr(self, style + "_cjk")
        return Paragraph(escape(s).replace("\n", "<br/>"), chosen)

    def cell(self, text: object, style: str, width: float, padding: float = 12):
        """A table cell in ``style``: the plain string when it fits on one line in a column of
        ``width`` (less ``padding``), which the table draws with one ``drawString`` at the very
        place a paragraph puts its first line; otherwise (too wide, a line break, spacing a
        paragraph would collapse) the paragraph.  The table must carry the style's font, size,
        leading and colour (``_cell_cmds``)."""
        s = "" if text is None else str(text)
        chosen = getattr(self, style)
        if (s and "\n" not in s and s == " ".join(s.split())
                and pdfmetrics.stringWidth(s, chosen.fontName, chosen.fontSize) <= width - padding):
            return s
        return self.p(s, style)


def _cell_cmds(style: ParagraphStyle, start: tuple[int, int], stop: tuple[int, int]) -> list:
    """The table commands that make plain-string cells in that range look like ``style``'s
    paragraphs (see ``_Styles.cell``)."""
    return [("FONTNAME", start, stop, style.fontName), ("FONTSIZE", start, stop, style.fontSize),
            ("LEADING", start, stop, style.leading), ("TEXTCOLOR", start, stop, style.textColor)]


_styles_cache: _Styles | None = None


def _styles() -> _Styles:
    global _styles_cache
    if _styles_cache is None:
        _styles_cache = _Styles()
    return _styles_cache


def format_time(value: datetime | date | str | None, tz: str = TIMEZONE) -> str:
    """A time as ``YYYY-MM-DD HH:MM`` in Beijing time (naive datetimes are taken as UTC)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _grid(data, col_widths, *, header: bool = True, repeat: bool = True, align_right: Sequence[int] = ()):
    table = Table(data, colWidths=col_widths, repeatRows=1 if header and repeat else 0)
    cmds = [
        ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.4, _RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        cmds.append(("BACKGROUND", (0, 0), (-1, 0), _SHADE))
    for col in align_right:
        cmds.append(("ALIGN", (col, 0), (col, -1), "RIGHT"))
    table.setStyle(TableStyle(cmds))
    return table


def _fields(rows: Sequence[tuple[str, object]], width: float, label_width: float = 38 * mm):
    """A two-column label/value block."""
    st = _styles()
    value_width = width - label_width
    table = Table([[st.cell(k, "small", label_width), st.cell(v, "body", value_width)] for k, v in rows],
                  colWidths=[label_width, value_width])
    table.setStyle(TableStyle([
        *_cell_cmds(st.small, (0, 0), (0, -1)), *_cell_cmds(st.body, (1, 0), (1, -1)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), _SHADE),
        ("GRID", (0, 0), (-1, -1), 0.4, _RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


QR_BOX = 4      # pixels per module
QR_BORDER = 2   # modules of quiet zone


def qr_matrix(url: str) -> list[list[bool]]:
    """The modules of ``url``'s QR code (error correction M), quiet zone included."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    # A fixed mask pattern (any of the eight is valid) skips qrcode's search for the "best" one,
    # which costs more than the rest of the page.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=QR_BOX, border=QR_BORDER, mask_pattern=4)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def qr_pil(url: str):
    """The QR code of ``url`` as a greyscale PIL image, ``QR_BOX`` pixels a module: built from
    the matrix in one ``frombytes`` (no drawing module by module, no PNG encoding)."""
    from PIL import Image as PILImage

    matrix = qr_matrix(url)
    dark, light = b"\x00" * QR_BOX, b"\xff" * QR_BOX
    rows = [b"".join(dark if module else light for module in row) * QR_BOX for row in matrix]
    side = len(matrix) * QR_BOX
    return PILImage.frombytes("L", (side, side), b"".join(rows))


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as PNG bytes (the very pixels a document embeds)."""
    buf = io.BytesIO()
    qr_pil(url).save(buf, format="PNG")
    return buf.getvalue()


class _QRCode(Flowable):
    """The QR code image drawn ``size`` square, handed to reportlab as the PIL image itself."""

    def __init__(self, url: str, size: float):
        super().__init__()
        self.url, self.size = url, size

    def wrap(self, available_width, available_height):
        return self.size, self.size

    def draw(self):
        self.canv.drawImage(ImageReader(qr_pil(self.url)), 0, 0, self.size, self.size)


def qr_image(url: str, size_mm: float = 28) -> Flowable:
    """A QR code as a reportlab flowable."""
    return _QRCode(url, size_mm * mm)


def _verification_block(code: str, url: str, lb: dict[str, str], width: float):
    st = _styles()
    text = [st.p(lb["verification"], "h2"),
            _fields([(lb["verification_code"], code), (lb["verify_at"], url)], width - 34 * mm, 28 * mm),
            Spacer(1, 2 * mm), st.p(lb["verify_note"], "small")]
    table = Table([[text, qr_image(url) if url else ""]], colWidths=[width - 32 * mm, 32 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return KeepTogether([table])


def _approvals_table(approvals: Sequence[ApprovalLine], lb: dict[str, str], width: float):
    st = _styles()
    if not approvals:
        return st.p(lb["none"])
    widths = [width * 0.3, width * 0.4, width * 0.3]
    rows = [[st.cell(lb[k], "small", w) for k, w in zip(("role", "name", "time"), widths)]]
    for role, name, when in approvals:
        rows.append([st.cell(v, "body", w) for v, w in zip((role, name, format_time(when)), widths)])
    table = _grid(rows, widths)
    table.setStyle(TableStyle([*_cell_cmds(st.small, (0, 0), (-1, 0)), *_cell_cmds(st.body, (0, 1), (-1, -1))]))
    return table


def _build(story: list, *, title: str, lang: str, invariant: bool, pagesize=A4,
           seed: tuple[str, ...] = ()) -> bytes:
    """``story`` as a PDF with the page footer; ``seed``: the label keys whose characters fill the
    font's first subset before anything is drawn (:func:`seed_font`), for a kind built in numbers."""
    lb = labels_for(lang)
    buf = io.BytesIO()

    def footer(canvas, doc):
        if seed:  # called at the start of each page, before its flowables
            seed_font(canvas, lang, seed)
        canvas.saveState()
        canvas.setFont(FONT_NAME, 7.5)
        canvas.setFillColor(colors.HexColor("#6b7280"))
        canvas.drawString(doc.leftMargin, 10 * mm, f"{title}")
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, 10 * mm, lb["page"].format(page=doc.page))
        canvas.restoreState()

    doc = SimpleDocTemplate(buf, pagesize=pagesize, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=title, author=lb["authority"], subject=title,
                            creator="voucher", invariant=1 if invariant else 0, lang="zh-CN" if lang == "zh" else "en")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _frame_width(pagesize=A4) -> float:
    return pagesize[0] - 36 * mm


def _header(title: str, lb: dict[str, str]) -> list:
    st = _styles()
    return [st.p(lb["authority"], "authority"), st.p(title, "title"), Spacer(1, 2 * mm)]


def warm_up() -> None:
    """Do once what a process's first document pays for (a worker calls this before it takes
    jobs): the font registered, the styles built, and one payment order rendered in each
    language, which imports and caches the rest of reportlab and qrcode."""
    register_font()
    _styles()
    for lang in LANGS:
        payment_order_pdf(PaymentOrderData(
            reference="WARM-UP", programme_name="预热 warm-up", payee_name="预热", bank_name="预热",
            bank_account="0", amount=Decimal("1.00"), purpose="预热", issued_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            verification_code="WARMUP2345", verification_url="http://127.0.0.1/verify/WARMUP2345",
            working=["1 × 1 = 1"], approvals=[("预热", "预热", None)], lang=lang))


# --- payment order ----------------------------------------------------------------------------

SEAL_BOX_HEIGHT = 14 * mm  # room for the visible signature: signer and time on two lines

class SealBox(NamedTuple):
    """Where a document's seal goes (盖章): page index (0 = first) and the rectangle in PDF points
    (origin bottom left), as :mod:`voucher.documents.signing` places the visible signature."""

    page: int
    x1: float
    y1: float
    x2: float
    y2: float


_seal_boxes: contextvars.ContextVar[list[SealBox] | None] = contextvars.ContextVar("seal_boxes", default=None)


@contextlib.contextmanager
def recording_seal_boxes() -> Iterator[list[SealBox]]:
    """Collect the seal boxes the renderers draw inside the block (the document job signs the
    PDF on the first one)::

        with recording_seal_boxes() as boxes:
            data = payment_order_pdf(...)
        boxes  # [SealBox(page=0, x1=..., ...)]
    """
    boxes: list[SealBox] = []
    token = _seal_boxes.set(boxes)
    try:
        yield boxes
    finally:
        _seal_boxes.reset(token)


class _SealTable(Table):
    """The seal block's table: when drawn, it notes where its seal cell (``seal_cell``: row,
    column) landed on the page, for :func:`recording_seal_boxes`."""

    def __init__(self, *args, seal_cell: tuple[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self._seal_cell = seal_cell

    def draw(self):
        super().draw()
        boxes = _seal_boxes.get()
        if boxes is None:
            return
        row, col = self._seal_cell
        x1, x2 = self._colpositions[col], self._colpositions[col + 1]
        y_top, y_bottom = self._rowpositions[row], self._rowpositions[row + 1]
        ax1, ay1 = self.canv.absolutePosition(x1, y_bottom)
        ax2, ay2 = self.canv.absolutePosition(x2, y_top)
        boxes.append(SealBox(self.canv.getPageNumber() - 1, round(min(ax1, ax2), 2), round(min(ay1, ay2), 2),
                             round(max(ax1, ax2), 2), round(max(ay1, ay2), 2)))


def _seal_block(lb: dict[str, str], width: float):
    """Three boxes signed and stamped on paper: preparer (经办), approver (复核), the bureau's seal (盖章).
    The empty cell under "seal" is the seal box: a signed PDF carries its visible signature there."""
    st = _styles()
    box = width / 3
    table = _SealTable([[st.p(lb[k], "small") for k in ("seal_preparer", "seal_approver", "seal_stamp")],
                        ["", "", ""],
                        [st.p(lb["seal_date"], "small")] * 3],
                       colWidths=[box] * 3, rowHeights=[None, SEAL_BOX_HEIGHT, None], seal_cell=(1, 2))
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.8, _INK), ("LINEAFTER", (0, 0), (1, -1), 0.4, _RULE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.4, _RULE),
        ("BACKGROUND", (0, 0), (-1, 0), _SHADE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def payment_order_pdf(data: PaymentOrderData, *, invariant: bool = False) -> bytes:
    """The payment order of one disbursement: payee and bank account, amount in figures and in
    capitals, the working, the approval trail and the verification code with its QR code."""
    lb = labels_for(data.lang)
    st = _styles()
    width = _frame_width()
    amount = _exact_amount(data.amount)
    story = _header(lb["payment_order"], lb)
    story.append(_fields([
        (lb["reference"], data.reference),
        (lb["issued_at"], format_time(data.issued_at)),
        (lb["programme"], data.programme_name),
        (lb["purpose"], data.purpose),
    ], width))
    story.append(st.p(lb["payee_section"], "h2"))
    story.append(_fields([
        (lb["payee"], data.payee_name),
        (lb["bank"], data.bank_name),
        (lb["account"], data.bank_account),
        (lb["bank_code"], data.bank_code or "—"),
        (lb["grant_for"], data.enterprise_name or data.payee_name),
    ], width))
    story.append(Spacer(1, 3 * mm))
    label_w, value_w = 38 * mm, width - 38 * mm
    offset = _exact_amount(data.offset_amount) if data.offset_amount else Decimal("0.00")
    if offset:  # 抵扣: the grant, the offset with its recovery orders, then what the bank transfers
        transfer = amount - offset
        orders = "; ".join(f"{ref} {amount_in_figures(part)}" for ref, part in data.offset_orders)
        rows = [
            [st.cell(lb["grant_amount"], "small", label_w), st.cell(amount_in_figures(amount), "amount", value_w)],
            [st.cell(lb["offset_amount"], "small", label_w),
             st.cell(f"− {amount_in_figures(offset)}" + (f" ({orders})" if orders else ""), "amount", value_w)],
            [st.cell(lb["transfer_figures"], "small", label_w), st.cell(amount_in_figures(transfer), "amount", value_w)],
            [st.cell(lb["transfer_capitals"], "small", label_w),
             st.cell(amount_in_capitals(transfer), "amount", value_w)],
        ]
    else:
        rows = [
            [st.cell(lb["amount_figures"], "small", label_w), st.cell(amount_in_figures(amount), "amount", value_w)],
            [st.cell(lb["amount_capitals"], "small", label_w), st.cell(amount_in_capitals(amount), "amount", value_w)],
        ]
    amount_table = Table(rows, colWidths=[label_w, value_w])
    amount_table.setStyle(TableStyle([
        *_cell_cmds(st.small, (0, 0), (0, -1)), *_cell_cmds(st.amount, (1, 0), (1, -1)),
        ("BOX", (0, 0), (-1, -1), 1.2, _INK), ("INNERGRID", (0, 0), (-1, -1), 0.4, _RULE),
        ("BACKGROUND", (0, 0), (0, -1), _SHADE), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]))
    story.append(amount_table)
    story.append(st.p(lb["working"], "h2"))
    if data.working:
        for n, line in enumerate(data.working, 1):
            story.append(st.p(f"{n}. {line}"))
    else:
        story.append(st.p(lb["none"]))
    story.append(st.p(lb["approvals"], "h2"))
    story.append(_approvals_table(data.approvals, lb, width))
    story.append(Spacer(1, 4 * mm))
    story.append(_seal_block(lb, width))
    story.append(Spacer(1, 2 * mm))
    story.append(_verification_block(data.verification_code, data.verification_url, lb, width))
    return _build(story, title=f"{lb['payment_order']} {data.reference}", lang=data.lang, invariant=invariant,
                  seed=PAYMENT_ORDER_LABELS)


# The labels a payment order always prints, whose characters lead its font's first subset.
PAYMENT_ORDER_LABELS = (
    "authority", "payment_order", "page", "reference", "issued_at", "programme", "purpose", "payee_section",
    "payee", "bank", "account", "bank_code", "grant_for", "amount_figures", "amount_capitals", "working",
    "approvals", "role", "name", "time", "seal_preparer", "seal_approver", "seal_stamp", "seal_date",
    "verification", "verification_code", "verify_at", "verify_note")


# --- audit dossier ----------------------------------------------------------------------------

def _short(value: object, limit: int = 60) -> str:
    text = value if isinstance(value, str) else ("—" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summarise_change(before: dict | None, after: dict | None, limit: int = 400) -> str:
    """``key: old → new`` for each key whose value differs (new keys as ``key: new``)."""
    before, after = before or {}, after or {}
    parts = []
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        if key in before and key in after:
            if old != new:
                parts.append(f"{key}: {_short(old)} → {_short(new)}")
        elif key in after:
            parts.append(f"{key}: {_short(new)}")
        else:
            parts.append(f"{key}: {_short(old)} → —")
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def audit_dossier_pdf(data: AuditDossierData, *, invariant: bool = False) -> bytes:
    """An application's audit dossier: chronology, calculations, evaluations, approvals, and the
    audit-chain head hash at the time of issue."""
    lb = labels_for(data.lang)
    st = _styles()
    pagesize = landscape(A4)
    width = _frame_width(pagesize)
    story = _header(lb["audit_dossier"], lb)
    story.append(_fields([
        (lb["reference"], data.reference),
        (lb["issued_at"], format_time(data.issued_at)),
        (lb["programme"], data.programme_name),
        ("", data.title),
        *data.facts,
    ], width))
    story.append(st.p(lb["chronology"], "h2"))
    if data.chronology:
        rows = [[st.p(lb[k], "small") for k in ("time", "actor", "action", "change", "reason")]]
        for e in data.chronology:
            rows.append([st.p(format_time(e.time), "small"), st.p(e.actor, "small"), st.p(e.action, "small"),
                         st.p(e.change if e.change is not None else summarise_change(e.before, e.after), "small"), st.p(e.reason or "", "small")])
        story.append(_grid(rows, [w * width for w in (0.12, 0.18, 0.17, 0.35, 0.18)]))
    else:
        story.append(st.p(lb["none"]))
    story.append(st.p(lb["calculations"], "h2"))
    if data.calculations:
        for section in data.calculations:
            story.append(st.p(section.title, "body"))
            for n, line in enumerate(section.lines, 1):
                story.append(st.p(f"{n}. {line}", "small"))
            story.append(Spacer(1, 2 * mm))
    else:
        story.append(st.p(lb["none"]))
    story.append(st.p(lb["evaluations"], "h2"))
    if data.evaluation_rows:
        cols = max(len(data.evaluation_header), max(len(r) for r in data.evaluation_rows))
        header = list(data.evaluation_header) + [""] * (cols - len(data.evaluation_header))
        rows = [[st.p(h, "small") for h in header]]
        rows += [[st.p(c, "small") for c in (list(r) + [""] * (cols - len(r)))] for r in data.evaluation_rows]
        story.append(_grid(rows, [width / cols] * cols))
    else:
        story.append(st.p(lb["none"]))
    story.append(st.p(lb["approvals"], "h2"))
    story.append(_approvals_table(data.approvals, lb, width))
    story.append(st.p(lb["chain_head"], "h2"))
    story.append(st.p(data.chain_head, "small"))
    story.append(Spacer(1, 3 * mm))
    story.append(_verification_block(data.verification_code, data.verification_url, lb, width))
    return _build(story, title=f"{lb['audit_dossier']} {data.reference}", lang=data.lang, invariant=invariant,
                  pagesize=pagesize)


# --- programme report -------------------------------------------------------------------------

def _chart_value(amount: Decimal) -> float:
    # Drawing coordinate only (bar length); the figures printed come from the Decimal.
    return float(_exact_amount(amount))


def _bar_chart(rows: Sequence[FundUseRow], lb: Labels, width: float, horizontal: bool) -> Drawing:
    n = len(rows)
    height = max(120.0, 22.0 * n + 50) if horizontal else 190.0
    drawing = Drawing(width, height)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    left = 95 if horizontal else 45
    chart.x, chart.y = left, 30
    chart.width, chart.height = width - left - 20, height - 50
    chart.data = [[_chart_value(r.reserved) for r in rows], [_chart_value(r.paid) for r in rows]]
    chart.categoryAxis.categoryNames = [_short(r.label, 14) for r in rows]
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = FONT_NAME
        axis.labels.fontSize = 7
    if not horizontal:
        chart.categoryAxis.labels.angle = 30
        chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.valueMin = 0
    if lb.lang == "zh":
        chart.valueAxis.labelTextFormat = lambda v: f"{v / 10000:,.0f}万"
    else:
        chart.valueAxis.labelTextFormat = lambda v: f"{v / 1000:,.0f}k"
    chart.bars[0].fillColor = colors.HexColor(COLOURS["reserved"])  # one colour per meaning (voucher.chart_colours)
    chart.bars[1].fillColor = colors.HexColor(COLOURS["paid"])
    chart.barSpacing = 1
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = left, height - 6
    legend.fontName = FONT_NAME
    legend.fontSize = 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx = legend.dy = 7
    legend.deltax = 70
    legend.colorNamePairs = [(chart.bars[0].fillColor, lb["reserved"]), (chart.bars[1].fillColor, lb["paid"])]
    drawing.add(legend)
    return drawing


def _pie_chart(items: Sequence[tuple[str, Decimal]], width: float, height: float = 150,
               palette: Sequence | None = None) -> Drawing:
    """A pie of the shares; the legend names each slice with its share in percent (Decimal math)."""
    palette = list(palette or _PALETTE)
    total = sum((Decimal(v) for _, v in items), Decimal(0))
    drawing = Drawing(width, height)
    pie = Pie()
    size = height - 30
    pie.x, pie.y = 20, 15
    pie.width = pie.height = size
    pie.data = [float(v) for _, v in items]  # drawing geometry only
    pie.labels = None
    pie.simpleLabels = 1
    pie.slices.strokeColor = colors.white
    for i in range(len(items)):
        pie.slices[i].fillColor = palette[i % len(palette)]
    drawing.add(pie)
    legend = Legend()
    legend.x, legend.y = size + 45, height - 20
    legend.fontName = FONT_NAME
    legend.fontSize = 8
    legend.dx = legend.dy = 8
    legend.colorNamePairs = [
        (palette[i % len(palette)], f"{label}  {(Decimal(v) * 100 / total).quantize(Decimal('0.1'))}%")
        for i, (label, v) in enumerate(items)]
    drawing.add(legend)
    return drawing


def _no_data(lb: dict[str, str], width: float) -> Drawing:
    drawing = Drawing(width, 24)
    drawing.add(String(0, 8, lb["no_data"], fontName=FONT_NAME, fontSize=9, fillColor=colors.grey))
    return drawing


def _fund_use_section(title: str, column: str, rows: Sequence[FundUseRow], lb, width, horizontal: bool) -> list:
    st = _styles()
    out = [st.p(title, "h2")]
    if not rows:
        return out + [_no_data(lb, width)]
    table_rows = [[st.p(lb[column], "small"), st.p(lb["reserved"], "small"), st.p(lb["paid"], "small"),
                   st.p(lb["total"], "small")]]
    total_r = total_p = Decimal("0.00")
    for r in rows:
        reserved, paid = _exact_amount(r.reserved), _exact_amount(r.paid)
        total_r += reserved
        total_p += paid
        table_rows.append([st.p(r.label), amount_in_figures(reserved), amount_in_figures(paid),
                           amount_in_figures(reserved + paid)])
    table_rows.append([st.p(lb["total"]), amount_in_figures(total_r), amount_in_figures(total_p),
                       amount_in_figures(total_r + total_p)])
    out.append(_grid(table_rows, [width * 0.34, width * 0.22, width * 0.22, width * 0.22], align_right=(1, 2, 3)))
    out.append(Spacer(1, 2 * mm))
    if any(r.reserved or r.paid for r in rows):
        out.append(_bar_chart(rows, lb, width, horizontal))
    return out


def programme_report_pdf(data: ProgrammeReportData, *, invariant: bool = False) -> bytes:
    """A programme's fund use by kind, district and industry (tables and bar charts), its trial
    outcomes (table and pie chart) and the adoption rate."""
    lb = labels_for(data.lang)
    st = _styles()
    width = _frame_width()
    story = _header(lb["programme_report"], lb)
    story.append(_fields([
        (lb["programme"], data.programme_name),
        (lb["as_of"], format_time(data.as_of)),
        (lb["issued_at"], format_time(data.issued_at)),
        *([(lb["audit_anchor"], data.audit_anchor)] if data.audit_anchor else []),
    ], width))
    story.append(Spacer(1, 3 * mm))
    figures = [[st.p(lb[k], "small") for k in ("budget", "reserved", "paid", "available")],
               [amount_in_figures(data.budget), amount_in_figures(data.reserved), amount_in_figures(data.paid),
                amount_in_figures(data.available)]]
    story.append(_grid(figures, [width / 4] * 4, repeat=False, align_right=(0, 1, 2, 3)))
    story.append(Spacer(1, 2 * mm))
    kinds = [(r.label, _exact_amount(r.reserved) + _exact_amount(r.paid)) for r in data.by_kind]
    story += _fund_use_section(lb["by_kind"], "kind", data.by_kind, lb, width, horizontal=True)
    if any(v for _, v in kinds):
        story.append(_pie_chart([(label, v) for label, v in kinds if v], width))
    story += _fund_use_section(lb["by_district"], "district", data.by_district, lb, width, horizontal=True)
    story += _fund_use_section(lb["by_industry"], "industry", data.by_industry, lb, width, horizontal=False)
    outcomes = [(lb["passed"], data.trials_passed), (lb["failed"], data.trials_failed),
                (lb["pending"], data.trials_pending)]
    outcome_colours = {lb[k]: colors.HexColor(COLOURS[k]) for k in ("passed", "failed", "pending")}
    section = [st.p(lb["trial_outcomes"], "h2"),
               _grid([[st.p(k, "small") for k, _ in outcomes] + [st.p(lb["total"], "small")],
                      [str(v) for _, v in outcomes] + [str(sum(v for _, v in outcomes))]],
                     [width / 4] * 4, repeat=False, align_right=(0, 1, 2, 3))]
    if any(v for _, v in outcomes):
        shown = [(k, Decimal(v)) for k, v in outcomes if v]
        section.append(_pie_chart(shown, width, 130, palette=[outcome_colours[k] for k, _ in shown]))
    else:
        section.append(_no_data(lb, width))
    story.append(KeepTogether(section))
    story.append(st.p(lb["adoption"], "h2"))
    rate = data.adoption_rate
    story.append(st.p((f"{rate}% — " if rate is not None else "— ")
                      + lb["adoption_text"].format(adopted=data.adopted, decided=data.adoption_decided)))
    if data.verification_code:
        story.append(Spacer(1, 3 * mm))
        story.append(_verification_block(data.verification_code, data.verification_url, lb, width))
    return _build(story, title=f"{lb['programme_report']} {data.programme_name}", lang=data.lang,
                  invariant=invariant)


# --- payment batch ----------------------------------------------------------------------------

def batch_summary_pdf(data: BatchSummaryData, *, invariant: bool = False) -> bytes:
    """A payment batch: every line (payee, bank, account, amount, reference), the total in figures
    and in capitals, who prepared it."""
    lb = labels_for(data.lang)
    st = _styles()
    width = _frame_width()
    total = data.total
    story = _header(lb["batch_summary"], lb)
    story.append(_fields([
        (lb["reference"], data.reference),
        (lb["programme"], data.programme_name),
        (lb["prepared_by"], data.prepared_by),
        (lb["prepared_at"], format_time(data.prepared_at)),
        (lb["issued_at"], format_time(data.issued_at)),
        (lb["lines"], str(len(data.lines))),
    ], width))
    story.append(Spacer(1, 3 * mm))
    rows = [[st.p(lb[k], "small") for k in ("line_no", "payee", "bank", "account", "amount", "line_reference")]]
    for n, line in enumerate(data.lines, 1):
        rows.append([str(n), st.p(line.payee_name, "small"), st.p(line.bank_name, "small"),
                     st.p(line.account, "small"), amount_in_figures(line.amount),
                     st.p("\n".join(filter(None, (line.reference, line.application_number))), "small")])
    rows.append(["", st.p(lb["total"], "small"), "", "", amount_in_figures(total), ""])
    story.append(_grid(rows, [w * width for w in (0.06, 0.24, 0.2, 0.2, 0.14, 0.16)], align_right=(4,)))
    story.append(Spacer(1, 3 * mm))
    story.append(_fields([(lb["total_figures"], amount_in_figures(total)),
                          (lb["total_capitals"], amount_in_capitals(total))], width))
    if data.verification_code:
        story.append(Spacer(1, 3 * mm))
        story.append(_verification_block(data.verification_code, data.verification_url, lb, width))
    return _build(story, title=f"{lb['batch_summary']} {data.reference}", lang=data.lang, invariant=invariant)
