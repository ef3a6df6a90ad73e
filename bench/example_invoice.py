"""Render the example invoice of the README: ``docs/example-invoice.png`` (and its PDF, if asked).

A German coffee roaster's Amazon invoice with two VAT rates and shipping, from
``sellerbridge.documents.samples``, rendered by the real templates to PDF/A-3b and turned into a
PNG by ``pdftoppm`` (Debian package ``poppler-utils``).

    .venv/bin/python bench/example_invoice.py [--png docs/example-invoice.png] [--pdf out.pdf]
        [--dpi 110]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from sellerbridge.documents import render
from sellerbridge.documents.samples import coffee_invoice

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "example-invoice.png")
    parser.add_argument("--pdf", type=Path, default=None, help="also keep the PDF here")
    parser.add_argument("--dpi", type=int, default=110)
    options = parser.parse_args()
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SystemExit("pdftoppm is missing: apt-get install poppler-utils")
    pdf = render(coffee_invoice())
    if options.pdf is not None:
        options.pdf.write_bytes(pdf)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "invoice.pdf"
        source.write_bytes(pdf)
        stem = Path(scratch) / "invoice"
        subprocess.run(
            [pdftoppm, "-png", "-singlefile", "-r", str(options.dpi), str(source), str(stem)],
            check=True,
        )
        options.png.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stem.with_suffix(".png"), options.png)
    print(f"{options.png} ({options.png.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
