"""The documents the bureau signs (issue 18 §5): PAdES signatures with pyHanko.

**Which documents.**  A document kind is signed when its :class:`~voucher.documents.builders.KindSpec`
says ``signed`` (payment orders, payment batch summaries, audit dossiers; a later kind such as the
recovery notice passes ``register_builder(..., signed=True)``).  The document job signs the
builder's PDF before it stores it (:func:`sign_built`), so the stored file, its SHA-256 and the
verification page all refer to the signed bytes.

**Where the signature shows.**  A renderer that draws a seal box (盖章) records it
(:func:`voucher.documents.pdf.recording_seal_boxes`); the signature field's rectangle is that box,
with the signer and the signing time drawn in it in the document's language.  A document without
a seal box gets an invisible signature (the PDF viewer's signature panel and the verification page
still show it).

**The key.**  ``SIGNING_KEY`` and ``SIGNING_CERT`` (``VOUCHER_SIGNING_KEY`` / ``VOUCHER_SIGNING_CERT``)
are paths: a PEM key and a PEM certificate, or one PKCS#12 file (``.p12``/``.pfx``) given as the key
(the certificate is then read from it); ``SIGNING_KEY_PASSPHRASE`` unlocks either.
``SIGNING_CHAIN`` lists intermediate certificates (PEM files, separated by ``os.pathsep``) embedded in
each signature.  ``SIGNING_TRUST_ROOTS`` lists the certificates the verification page trusts (default:
the signing certificate and its chain: a self-signed certificate is its own root).

Without a configured key, outside production, a self-signed **test certificate** is generated on
first use (RSA 2048, CN "经济和信息化局（测试证书 TEST）", OU "TEST CERTIFICATE - NOT FOR PRODUCTION
USE") and kept in
``SIGNING_TEST_DIR`` (default: ``signing/`` beside ``STORAGE_DIR``, i.e. ``instance/signing``), so
``make run`` and the tests sign and verify.  Production refuses to start without a configured key,
unless ``SIGNING_ALLOW_UNSIGNED`` is true: then it logs a warning and issues documents unsigned.

The key and certificates are loaded once per process (the worker loads them before it takes jobs,
:func:`preload`); a visible signature takes about 8 ms of CPU per document (``bench/signing_bench.py``).

**Idempotence.**  :func:`sign_pdf_bytes` never signs a PDF that already carries a signature (it
returns the bytes unchanged), and the job signs within the build of a version: a re-delivered job
links the document it stored instead of building and signing again.
"""
from __future__ import annotations

import functools
import io
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Sequence
from zoneinfo import ZoneInfo

from voucher.documents.builders import PermanentJobError
from voucher.documents.pdf import SealBox, labels_for, register_font

log = logging.getLogger(__name__)

FIELD_NAME = "BureauSeal"
TIMEZONE = "Asia/Shanghai"
TEST_CERT_FILE = "test-signing.pem"
TEST_MARK = "测试证书 TEST"  # in the test certificate's CN: the seal and the check page show it
TEST_BUREAU_NAME = "经济和信息化局"
TEST_ORGANISATION = "经济和信息化局 Economy and Information Bureau"

_lock = threading.Lock()
_cache: dict[tuple, "BureauKey"] = {}


class SigningNotConfigured(PermanentJobError, RuntimeError):
    """Production without a signing key (and without ``SIGNING_ALLOW_UNSIGNED``)."""


@dataclass(frozen=True)
class BureauKey:
    """The bureau's signing key, loaded once per process."""

    signer: object                 # pyhanko.sign.signers.SimpleSigner
    certificate: object            # asn1crypto.x509.Certificate
    trust_roots: tuple             # asn1crypto certificates the verification page trusts
    signer_name: str               # the certificate's common name (shown in the seal and on the page)
    test: bool                     # the generated test certificate


@dataclass(frozen=True)
class SignatureCheck:
    """What the verification page says about a stored document's signature."""

    signed: bool                   # the file carries a signature at all
    intact: bool                   # the signed bytes are unchanged and nothing was appended after them
    trusted: bool                  # the certificate chains to a configured trust root
    signer_name: str | None = None
    signed_at: datetime | None = None
    test_certificate: bool = False
    missing: bool = False          # the stored file is gone

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.trusted


# --- ASN.1 encoding ---------------------------------------------------------------------------

def encode_asn1_once() -> None:
    """Make asn1crypto encode a constructed value once, not on every read of its bytes.

    asn1crypto marks a SEQUENCE or SET built in code (``cms.SignerInfo({...})``) as mutated and
    never clears the mark, so every read of its ``contents`` encodes its whole subtree again, and
    ``dump()`` reads it up to three times at every level: the CMS container of one signature (its
    signed attributes nest six deep) was encoded thousands of times over, about 9 ms of the 11 ms
    pyHanko spends building it.  After this, a value encoded once is marked clean; changing a
    field again (``value[name] = ...``, ``append``, ``del``, at any depth of SEQUENCEs and SETs)
    marks it mutated as before, so the next read encodes it anew.  What asn1crypto never tracked
    (a primitive changed in place with ``set``, a change inside a CHOICE) is no longer picked up
    by the container's next encoding either; pyHanko's signing makes no such change, and its CMS
    container's bytes are the same with and without this (``tests/documents/test_signing.py``).
    Installed once per process when this module is imported."""
    from asn1crypto import core

    for cls in (core.Sequence, core.SequenceOf):  # Set and SetOf inherit from these
        if getattr(cls._set_contents, "_voucher_encodes_once", False):
            continue
        original = cls._set_contents

        def set_contents(self, force=False, _original=original):
            _original(self, force)
            self._mutated = False  # the contents now reflect every child; their own marks were cleared first

        set_contents._voucher_encodes_once = True
        set_contents._voucher_original = original
        cls._set_contents = set_contents


encode_asn1_once()


# --- configuration ----------------------------------------------------------------------------

def _paths(value) -> list[Path]:
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        return [Path(v) for v in value if v]
    return [Path(p) for p in str(value).split(os.pathsep) if p.strip()]


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on") if value is not None else False


def configured(config) -> bool:
    return bool(config.get("SIGNING_KEY"))


def unsigned_allowed(config) -> bool:
    return _truthy(config.get("SIGNING_ALLOW_UNSIGNED"))


def check_production(config) -> None:
    """At start in production: a signing key must be configured, or unsigned documents explicitly
    allowed (then a warning is logged)."""
    if configured(config):
        load_key(config)  # a wrong path or passphrase stops the start, not the first document
        return
    if unsigned_allowed(config):
        log.warning("VOUCHER_SIGNING_KEY is not set and VOUCHER_SIGNING_ALLOW_UNSIGNED is on: payment orders, "
                    "batch summaries and audit dossiers are issued WITHOUT a digital signature.")
        return
    raise SigningNotConfigured(
        "Refusing to start in production without the bureau's signing key: set VOUCHER_SIGNING_KEY and "
        "VOUCHER_SIGNING_CERT (PEM files) or VOUCHER_SIGNING_KEY to a PKCS#12 file (with "
        "VOUCHER_SIGNING_KEY_PASSPHRASE), or VOUCHER_SIGNING_ALLOW_UNSIGNED=true to issue documents unsigned.")


def test_dir(config) -> Path:
    if config.get("SIGNING_TEST_DIR"):
        return Path(config["SIGNING_TEST_DIR"])
    storage = config.get("STORAGE_DIR")
    return (Path(storage).parent if storage else Path("instance")) / "signing"


def bureau_key(config=None) -> BureauKey | None:
    """The key documents are signed with (None: documents are issued unsigned — production with
    ``SIGNING_ALLOW_UNSIGNED`` and no key)."""
    if config is None:
        from flask import current_app

        config = current_app.config
    if not configured(config):
        if config.get("ENV_NAME") == "production":
            if unsigned_allowed(config):
                return None
            raise SigningNotConfigured("No signing key is configured (VOUCHER_SIGNING_KEY).")
    return load_key(config)


def load_key(config) -> BureauKey:
    if configured(config):
        cache_key = ("configured", str(config.get("SIGNING_KEY")), str(config.get("SIGNING_CERT") or ""),
                     str(config.get("SIGNING_CHAIN") or ""), str(config.get("SIGNING_TRUST_ROOTS") or ""),
                     _passphrase(config))
    else:
        cache_key = ("test", str(test_dir(config)), str(config.get("SIGNING_TRUST_ROOTS") or ""))
    key = _cache.get(cache_key)
    if key is not None:
        return key
    with _lock:
        key = _cache.get(cache_key)
        if key is None:
            key = _load_configured(config) if configured(config) else _load_test(config)
            _cache[cache_key] = key
    return key


def _passphrase(config) -> bytes | None:
    value = config.get("SIGNING_KEY_PASSPHRASE")
    if not value:
        return None
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _load_configured(config) -> BureauKey:
    from pyhanko.keys import load_certs_from_pemder
    from pyhanko.sign import signers

    key_path = Path(config["SIGNING_KEY"])
    chain = [c for c in load_certs_from_pemder([str(p) for p in _paths(config.get("SIGNING_CHAIN"))])]
    if key_path.suffix.lower() in (".p12", ".pfx"):
        signer = signers.SimpleSigner.load_pkcs12(str(key_path), ca_chain_files=None,
                                                  passphrase=_passphrase(config), other_certs=chain)
    else:
        if not config.get("SIGNING_CERT"):
            raise SigningNotConfigured("VOUCHER_SIGNING_CERT is required with a PEM key (VOUCHER_SIGNING_KEY).")
        signer = signers.SimpleSigner.load(str(key_path), str(config["SIGNING_CERT"]),
                                           key_passphrase=_passphrase(config), other_certs=chain)
    if signer is None:
        raise SigningNotConfigured(f"Could not load the signing key from {key_path} (wrong passphrase or format?).")
    return _bureau_key(signer, config, test=False)


@functools.cache
def _kept_key_signer_class():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko.sign.signers import SimpleSigner

    class KeptKeySigner(SimpleSigner):
        """pyHanko's SimpleSigner parses the private key again for every signature (~170 ms for an RSA
        key, twice per document); this one parses it once per process (RSA PKCS#1 v1.5 and ECDSA; other
        mechanisms go through pyHanko's own path)."""

        _pyca_key = None

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            try:
                name = mechanism.signature_algo
            except ValueError:
                name = mechanism["algorithm"].native
            if name not in ("rsassa_pkcs1v15", "ecdsa"):
                return super().sign_raw(data, digest_algorithm)
            if self._pyca_key is None:
                self._pyca_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
            hash_algo = get_pyca_cryptography_hash(digest_algorithm)
            if name == "ecdsa":
                return self._pyca_key.sign(data, signature_algorithm=ECDSA(hash_algo))
            return self._pyca_key.sign(data, PKCS1v15(), hash_algo)

    return KeptKeySigner


def _bureau_key(signer, config, *, test: bool) -> BureauKey:
    from pyhanko.keys import load_certs_from_pemder

    signer.__class__ = _kept_key_signer_class()  # same state, the key parsed once
    cert = signer.signing_cert
    roots = list(load_certs_from_pemder([str(p) for p in _paths(config.get("SIGNING_TRUST_ROOTS"))]))
    if not roots:
        roots = [cert, *list(signer.cert_registry)]
    return BureauKey(signer=signer, certificate=cert, trust_roots=tuple(roots),
                     signer_name=common_name(cert), test=test)


def common_name(cert) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except Exception:  # pragma: no cover - an odd subject: show it as pyHanko prints it
        return str(cert.subject.human_friendly)


def _load_test(config) -> BureauKey:
    from pyhanko.sign import signers

    path = test_dir(config) / TEST_CERT_FILE
    if not path.exists():
        generate_test_certificate(path)
    signer = signers.SimpleSigner.load(str(path), str(path))
    if signer is None:
        raise SigningNotConfigured(f"Could not load the test signing certificate {path}.")
    return _bureau_key(signer, config, test=True)


def outside_event_loop(call, *args, **kwargs):
    """Run one of pyHanko's synchronous calls, which wrap their coroutines in ``asyncio.run``.  That
    refuses to run where the thread already runs an event loop (an async server, a notebook, a
    browser driver's sync API in the tests), so there the call runs on a short-lived thread of its
    own; elsewhere (gunicorn sync workers, RQ workers) it runs here."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call, *args, **kwargs).result()


TEST_CERT_VALID_FROM = datetime(2000, 1, 1, tzinfo=timezone.utc)


def generate_test_certificate(path: Path, name: str = TEST_BUREAU_NAME, days: int = 3650) -> Path:
    """A self-signed certificate and its key in one PEM file, created atomically and only where none
    exists (two processes starting at once both use the first one written); the CN says it is a test
    certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_ORGANISATION),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "TEST CERTIFICATE - NOT FOR PRODUCTION USE"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{name}（{TEST_MARK}）"),
    ])
    # Valid from a fixed early day, not from "now": a document is checked at its issue time, and the
    # tests issue documents with the clock moved (before or after the day this file was first made).
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(TEST_CERT_VALID_FROM).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    pem = (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
           + cert.public_bytes(serialization.Encoding.PEM))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    try:
        os.link(tmp, path)  # only if absent: a process that was quicker keeps its certificate, for everyone
    except FileExistsError:
        return path
    finally:
        tmp.unlink()
    log.warning("generated a self-signed TEST signing certificate at %s (documents signed with it are not "
                "trusted outside this installation)", path)
    return path


def preload(config=None) -> None:
    """Load the key once per worker process, before it takes jobs (forked job processes inherit it)."""
    try:
        bureau_key(config)
        _appearance_font()
    except Exception:  # never keep a worker from starting: the first job loads it (or fails and says why)
        log.exception("loading the signing key failed")


# --- signing ----------------------------------------------------------------------------------

def _appearance_font() -> str:
    return register_font()


def local_time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m-%d %H:%M:%S")


def appearance_pdf(width: float, height: float, signer_name: str, signed_at: datetime, lang: str) -> bytes:
    """The signature's visible appearance, the size of the seal box: the signer and the signing
    time in the document's language, in seal red, drawn with the documents' embedded CJK font."""
    from reportlab.lib import colors
    from reportlab.pdfgen import canvas

    lb = labels_for(lang)
    font = _appearance_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height), invariant=1)
    red = colors.HexColor("#b91c1c")
    c.setStrokeColor(red)
    c.setFillColor(red)
    c.setLineWidth(1.2)
    c.roundRect(2, 2, width - 4, height - 4, 4)
    lines = [lb["signature_title"], signer_name, lb["signature_time"].format(time=local_time(signed_at))]
    pad = 7
    size = 9.0
    while size > 4 and size * 1.25 * len(lines) > height - 2 * pad + size * 0.25:  # three lines in the height
        size -= 0.25
    for text in lines:  # and the widest line in the width
        while size > 4 and c.stringWidth(text, font, size) > width - 2 * pad:
            size -= 0.25
    leading = size * 1.25
    total = leading * len(lines)
    y = (height + total) / 2 - size
    c.setFont(font, size)
    for text in lines:
        c.drawCentredString(width / 2, y, text)
        y -= leading
    c.showPage()
    c.save()
    return buf.getvalue()


def _static_background(data: bytes):
    """pyHanko's imported page, from bytes, under a fixed resource name (pyHanko's own names are random)."""
    from pyhanko.pdf_utils.content import ImportedPdfPage
    from pyhanko.pdf_utils.layout import BoxConstraints
    from pyhanko.pdf_utils.reader import PdfFileReader

    class _BytesPage(ImportedPdfPage):
        def render(self) -> bytes:
            w = self._ensure_writer
            xobj = w.import_page_as_xobject(PdfFileReader(io.BytesIO(data)), page_ix=0)
            self.resources.xobject["/SealAppearance"] = xobj
            x1, y1, x2, y2 = xobj.get_object()["/BBox"]
            self.box = BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
            return b"/SealAppearance Do"

    return _BytesPage("<memory>")


def already_signed(data: bytes) -> bool:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return bool(PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures)


def sign_pdf_bytes(data: bytes, key: BureauKey, *, signed_at: datetime, lang: str = "zh",
                   seal: SealBox | None = None, reason: str | None = None) -> bytes:
    """``data`` signed by ``key`` (PAdES baseline B, SHA-256): visibly on ``seal`` when given,
    invisibly otherwise.  A PDF that already carries a signature is returned unchanged."""
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    if reader.embedded_signatures:
        return data
    writer = IncrementalPdfFileWriter.from_reader(reader)  # parsed once
    if seal is not None:
        box = (seal.x1, seal.y1, seal.x2, seal.y2)
        spec = fields.SigFieldSpec(FIELD_NAME, on_page=seal.page, box=box)
        style = StaticStampStyle(background=_static_background(
            appearance_pdf(seal.x2 - seal.x1, seal.y2 - seal.y1, key.signer_name, signed_at, lang)),
            background_opacity=1.0, border_width=0,
            background_layout=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins(), inner_content_scaling=layout.InnerScaling.NO_SCALING))
    else:
        spec = fields.SigFieldSpec(FIELD_NAME)
        style = None
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES, reason=reason,
                                        name=key.signer_name)
    pdf_signer = _fixed_time_signer_class()(meta, key.signer, stamp_style=style, new_field_spec=spec, signed_at=signed_at)
    out = io.BytesIO()
    outside_event_loop(pdf_signer.sign_pdf, writer, output=out, bytes_reserved=_bytes_reserved(key))
    return out.getvalue()


def _bytes_reserved(key: BureauKey) -> int:
    """Room for the signature container, as hex digits: the certificates embedded plus 4 KiB for the
    signature and its attributes (pyHanko would otherwise sign a dummy first to measure it)."""
    certs = [key.certificate, *list(key.signer.cert_registry)]
    size = sum(len(c.dump()) for c in certs) + 4096
    return 2 * size


@functools.cache
def _fixed_time_signer_class():
    from pyhanko.sign import signers

    class FixedTimeSigner(signers.PdfSigner):
        """The signature's time is the document's issue time (printed on it and recorded with it)."""

        def __init__(self, *args, signed_at: datetime, **kwargs):
            super().__init__(*args, **kwargs)
            self._signed_at = signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=timezone.utc)

        def init_signing_session(self, pdf_out, existing_fields_only=False):
            session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
            session.system_time = self._signed_at
            return session

    return FixedTimeSigner


def sign_built(data: bytes, *, lang: str, signed_at: datetime, seal_boxes: Sequence[SealBox] = (),
               config=None) -> bytes:
    """What the document job stores for a signed kind: ``data`` signed on its first seal box (or
    unchanged where production allows unsigned documents)."""
    key = bureau_key(config)
    if key is None:
        return data
    return sign_pdf_bytes(data, key, signed_at=signed_at, lang=lang, seal=seal_boxes[0] if seal_boxes else None)


# --- checking ---------------------------------------------------------------------------------

def check_signature(data: bytes, *, trust_roots: Sequence | None = None, moment: datetime | None = None,
                    config=None) -> SignatureCheck:
    """Validate the first signature in ``data`` against the trust roots (default: the configured
    ones).  ``intact`` needs the signed bytes unchanged and the signature to cover the whole file
    (an update appended after signing counts as a change); ``moment`` is when the certificate must
    have been valid (the document's recorded issue time)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception:
        log.info("a stored document could not be read as a PDF", exc_info=True)
        return SignatureCheck(signed=False, intact=False, trusted=False)
    if not signatures:
        return SignatureCheck(signed=False, intact=False, trusted=False)
    if trust_roots is None:
        key = bureau_key(config)
        trust_roots = key.trust_roots if key is not None else ()
    sig = signatures[0]
    kwargs = {"trust_roots": list(trust_roots), "allow_fetching": False}
    if moment is not None:
        kwargs["moment"] = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    try:
        status = outside_event_loop(validate_pdf_signature, sig, ValidationContext(**kwargs))
    except Exception:
        log.info("a stored document's signature could not be validated", exc_info=True)
        return SignatureCheck(signed=True, intact=False, trusted=False)
    cert = status.signing_cert
    name = common_name(cert) if cert is not None else None
    intact = bool(status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
                  and len(signatures) == 1)
    test = bool(name and TEST_MARK in name)
    return SignatureCheck(signed=True, intact=intact, trusted=bool(status.trusted), signer_name=name,
                          signed_at=status.signer_reported_dt, test_certificate=test)
