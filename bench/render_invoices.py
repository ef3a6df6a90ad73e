"""How fast invoices are rendered: PDF/A-3b with the embedded, XSD-checked Factur-X XML.

Invoices of the coffee roaster in ``sellerbridge.documents.samples``, in all eight document
languages, with 1 to 6 articles plus shipping, every fifth an intra-EU B2B invoice. Three runs:

1. **Cold**: a new Python process imports the renderer and renders one invoice (what the first
   document of a command costs).
2. **Warm, one process**: invoices one after the other through the same renderer; the time per
   invoice (median, 95th percentile) and invoices per second on one core.
3. **``render_many``**, N worker processes (default 2, the cores of the project's machine):
   invoices per second over the wall time, pool start included (target: ≥ 20/s on 2 cores).

    .venv/bin/python bench/render_invoices.py [--invoices 400] [--workers 2] [--warm 60]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from io import BytesIO

from pypdf import PdfReader

from sellerbridge.core.documents import LANGUAGES, DocumentContent
from sellerbridge.documents import FILENAME, Renderer, render_many
from sellerbridge.documents.rendering import fast_font_subsetting
from sellerbridge.documents.samples import coffee_invoice, intra_eu_invoice
from sellerbridge.runtime import tune_gc

COLD = """
import time
started = time.perf_counter()
from sellerbridge.documents import render
from sellerbridge.documents.samples import coffee_invoice
imported = time.perf_counter()
render(coffee_invoice())
print(imported - started, time.perf_counter() - imported)
"""


def invoices(count: int) -> list[DocumentContent]:
    made = []
    for index in range(count):
        number = f"RE-2026-{index + 1:06d}"
        language = LANGUAGES[index % len(LANGUAGES)]
        if index % 5 == 4:
            made.append(intra_eu_invoice(number=number, language=("de", "en", "fr")[index % 3]))
        else:
            made.append(coffee_invoice(number=number, language=language, articles=index % 6 + 1))
    return made


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def check(pdf: bytes) -> None:
    """Cheap proof that the timed work was the real thing: the XML is embedded."""
    if FILENAME not in PdfReader(BytesIO(pdf)).attachments:
        raise SystemExit(f"a rendered invoice has no {FILENAME}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warm", type=int, default=60, help="invoices in the warm run")
    options = parser.parse_args()
    contents = invoices(options.invoices)
    if not fast_font_subsetting():
        print("warning: HarfBuzz subsetting (Debian libharfbuzz-subset0) is missing; "
              "WeasyPrint falls back to fontTools, about three times slower")  # fmt: skip

    cold = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True,
                          check=True)  # fmt: skip
    importing, first = (float(seconds) for seconds in cold.stdout.split())
    print(f"1. Cold process: imports {importing:.2f} s, first invoice {first:.2f} s")

    renderer = Renderer()
    check(renderer.render(contents[0]))

    tune_gc()  # as the worker and render_many's processes do before they start
    times = []
    for index, content in enumerate(contents[: options.warm], start=1):
        began = time.perf_counter()
        renderer.render(content)
        times.append(time.perf_counter() - began)
        print(f"\r   warm run: {index}/{options.warm}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"2. Warm, one process: {len(times)} invoices")
    median, p95 = statistics.median(times) * 1000, percentile(times, 0.95) * 1000
    print(f"   time per invoice   median {median:6.1f} ms   p95 {p95:6.1f} ms   "
          f"max {max(times) * 1000:6.1f} ms")  # fmt: skip
    print(f"   throughput         {len(times) / sum(times):6.1f} invoices/s on one core")

    def show(done: int, total: int) -> None:
        print(f"\r   render_many: {done}/{total}", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    pdfs = render_many(contents, workers=options.workers, on_progress=show)
    wall = time.perf_counter() - started
    print(file=sys.stderr)
    check(pdfs[-1])
    size = sum(len(pdf) for pdf in pdfs) / len(pdfs) / 1024
    print(f"3. render_many, {options.workers} worker processes: {len(pdfs)} invoices "
          f"(average {size:.0f} KiB)")  # fmt: skip
    print(f"   wall time          {wall:6.2f} s (pool start included)")
    print(f"   throughput         {len(pdfs) / wall:6.1f} invoices/s   (target ≥ 20/s on 2 cores)")


if __name__ == "__main__":
    main()
