"""Write a translation fragment from a Python dict file: ``python scripts/po_write.py src.py out.po``.

The source file defines ``T = {msgid: msgstr, ...}``; existing entries of ``out.po`` are kept
unless the dict gives a new translation.
"""
import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

src, out = sys.argv[1], Path(sys.argv[2])
new = runpy.run_path(src)["T"]
catalog = Catalog(locale="zh_Hans_CN", project="voucher", charset="utf-8")
if out.exists():
    with out.open("rb") as fh:
        for m in read_po(fh, locale="zh_Hans_CN"):
            if m.id:
                catalog.add(m.id, m.string)
for k, v in new.items():
    catalog.add(k, v)
with out.open("wb") as fh:
    write_po(fh, catalog, width=0, omit_header=False, sort_output=True)
print(f"{out}: {len([m for m in catalog if m.id])} messages")
