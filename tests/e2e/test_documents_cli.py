"""``sellerbridge documents`` as an operator uses it: invoice, PDF, correction, e-mail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from facturx import get_xml_from_pdf
from typer.testing import CliRunner

from tests.e2e.test_cli import run
from tests.smtp import MailServer, mail_server

CATALOGUE = """\
article_number;name;tax_class;stock_tracked
KAF-1000;Espresso 1 kg;reduced;yes
MUE-0010;Handmühle;standard;yes
"""

CONFIG = """\
[seller]
company = "Kaffeehaus Sonnenschein GmbH"
street = "Marktstraße 5"
postal_code = "70173"
city = "Stuttgart"
tax_number = "99/815/08150"
vat_ids = {{ DE = "DE136695976" }}

[smtp]
host = "{host}"
port = {port}
security = "none"
sender = "rechnung@kaffeehaus.example"
"""


@pytest.fixture
def server() -> Iterator[MailServer]:
    with mail_server() as running:
        yield running


@pytest.fixture
def shop(cli: CliRunner, tmp_path: Path, server: MailServer) -> CliRunner:
    run(cli, "init")
    (tmp_path / "data" / "sellerbridge.toml").write_text(
        CONFIG.format(host=server.host, port=server.port), encoding="utf-8"
    )
    (tmp_path / "articles.csv").write_text(CATALOGUE, encoding="utf-8")
    run(cli, "articles", "import", str(tmp_path / "articles.csv"))
    run(cli, "stock", "receive", "KAF-1000", "10")
    run(cli, "stock", "receive", "MUE-0010", "2")
    run(cli, "orders", "create", "--line", "KAF-1000:2:24.90", "--line", "MUE-0010:1:39.90",
        "--name", "Amélie Lefèvre", "--street", "12 rue de la Paix", "--postal-code", "75002",
        "--city", "Paris", "--country", "FR", "--email", "amelie@example.fr",
        "--shipping", "4.90")  # fmt: skip
    return cli


def test_invoice_pdf_correction_and_mail_from_the_command_line(
    shop: CliRunner, tmp_path: Path, server: MailServer
) -> None:
    # A sale to a consumer in France is taxed at French rates (OSS): 5.5 % is not a class, so
    # the espresso (reduced) takes France's 10 %, the grinder 20 %.
    issued = run(shop, "documents", "invoice", "SO-000001")
    assert "Issued invoice RE-000001 for order SO-000001" in issued

    target = tmp_path / "invoice.pdf"
    run(shop, "documents", "pdf", "RE-000001", "--output", str(target))
    pdf = target.read_bytes()
    _, xml = get_xml_from_pdf(pdf, check_xsd=True)
    assert b"RE-000001" in xml
    assert b"FR" in xml

    shown = " ".join(run(shop, "documents", "show", "RE-000001").split())
    assert "│ 1 │ Espresso 1 kg │ 2 │ 10 │ 45.27 │ 4.53 │ 49.80 │" in shown
    assert "│ 2 │ Handmühle │ 1 │ 20 │ 33.25 │ 6.65 │ 39.90 │" in shown
    assert "Total 94.60 EUR (net 82.81, VAT 11.79)" in shown
    assert "SHA-256" in shown

    corrected = run(shop, "documents", "correct", "RE-000001", "--line", "1:1",
                    "--reason", "returned")  # fmt: skip
    assert "Issued correction RK-000001" in corrected
    assert "RK-000001" in run(shop, "documents", "list", "--order", "SO-000001")
    refused = run(shop, "documents", "correct", "RE-000001", "--line", "1:2",
                  "--reason", "again", expect=1)  # fmt: skip
    assert "1 unit(s) left to correct" in " ".join(refused.split())

    sent = run(shop, "documents", "mail", "RE-000001")
    assert "Sent RE-000001" in sent
    (received,) = server.received
    assert received.recipients == ("amelie@example.fr",)
    assert "Votre facture RE-000001" in received.message["Subject"]  # the buyer's language
    (attachment,) = list(received.message.iter_attachments())
    assert attachment.get_content() == pdf


def test_an_invoice_without_the_merchants_details_says_what_to_set(
    cli: CliRunner, tmp_path: Path
) -> None:
    run(cli, "init")
    (tmp_path / "articles.csv").write_text(CATALOGUE, encoding="utf-8")
    run(cli, "articles", "import", str(tmp_path / "articles.csv"))
    run(cli, "stock", "receive", "KAF-1000", "1")
    run(cli, "orders", "create", "--line", "KAF-1000:1:24.90", "--name", "Max Mustermann",
        "--street", "Hauptstraße 1", "--postal-code", "10115", "--city", "Berlin",
        "--country", "DE")  # fmt: skip
    output = " ".join(run(cli, "documents", "invoice", "SO-000001", expect=1).split())
    assert "company, street, postal_code, city, tax_number or vat_ids missing" in output
    assert "[seller] table of sellerbridge.toml" in output
