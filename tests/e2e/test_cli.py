"""The CLI as an operator uses it, against a real database on both engines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from sellerbridge.cli.main import app
from sellerbridge.db.base import Base
from sellerbridge.db.models import Article
from sellerbridge.db.uow import UnitOfWork


def run(cli: CliRunner, *args: str, expect: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == expect, result.output
    return result.output


def write_catalogue(path: Path, rows: int, bad: dict[int, str]) -> Path:
    """A CSV with ``rows`` articles; ``bad`` replaces some data rows (1-based) by broken ones."""
    lines = ["article_number;name;gtin;tax_class;weight_g;stock_tracked"]
    for index in range(1, rows + 1):
        lines.append(bad.get(index, f"ART-{index:03d};Artikel {index};;standard;{index};yes"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_csv_with_three_bad_rows_imports_nothing_and_names_them(
    cli: CliRunner, tmp_path: Path, uow: UnitOfWork
) -> None:
    run(cli, "init")
    csv_file = write_catalogue(
        tmp_path / "articles.csv",
        100,
        {
            17: "ART-017;Artikel 17;4006381333932;standard;10;yes",  # wrong check digit
            42: "ART-042;;;standard;10;yes",  # no name
            88: "ART-088;Artikel 88;;luxus;-3;yes",  # unknown tax class, negative weight
        },
    )
    result = cli.invoke(app, ["articles", "import", str(csv_file)])
    assert result.exit_code == 1
    output = " ".join(result.output.split())  # the terminal may wrap long lines
    assert "Nothing was imported: 3 row(s) have problems" in output
    assert re.findall(r"row (\d+) \(", output) == ["18", "43", "89"]  # header is row 1
    assert "row 18 (ART-017): gtin: '4006381333932' is not a valid GTIN/EAN" in output
    assert "row 43 (ART-042): name: is empty" in output
    assert "row 89 (ART-088): tax_class: 'luxus' is not a tax class" in output
    assert "weight_g: -3 must be at least 0" in output
    with uow:
        assert uow.session.scalar(select(func.count()).select_from(Article)) == 0

    fixed = write_catalogue(tmp_path / "fixed.csv", 100, {})
    assert "100 new, 0 updated" in run(cli, "articles", "import", str(fixed))
    assert "100 article(s)" in run(cli, "articles", "list")


def test_an_operator_day(cli: CliRunner, tmp_path: Path) -> None:
    assert "created warehouse MAIN" in run(cli, "init")
    catalogue = tmp_path / "c.csv"
    catalogue.write_text(
        "article_number,name,tax_class,components\n"
        "TAS-0002,Espressotassen,standard,\n"
        "KAF-1000,Espresso 1 kg,reduced,\n"
        'SET-1,Set,standard,"TAS-0002:1; KAF-1000:1"\n'
    )
    run(cli, "articles", "import", str(catalogue))
    assert "on hand now 10" in run(cli, "stock", "receive", "TAS-0002", "10", "--reference", "LS-1")
    assert "on hand now 8" in run(
        cli, "stock", "adjust", "TAS-0002", "--by", "-2", "--reason", "broken in transit"
    )

    shown = run(
        cli, "orders", "create",
        "--line", "TAS-0002:3:12.00", "--line", "KAF-1000:1:24,90:7",
        "--name", "Zoë Brontë", "--street", "Packstation 118", "--postal-code", "80331",
        "--city", "München", "--country", "de", "--shipping", "4.90",
    )  # fmt: skip
    assert "Order SO-000001  open" in shown
    assert "Zoë Brontë" in shown
    assert "TAS-0002 3/3 reserved" in shown
    assert "KAF-1000 0/1 reserved" in shown
    assert "Total 65.80 EUR" in shown

    stock_table = run(cli, "stock", "show", "TAS-0002")
    assert re.search(r"TAS-0002 .* MAIN .* 8 .* 3 .* 5", stock_table)
    assert "broken in transit" in stock_table

    refused = run(cli, "orders", "release", "SO-000001", expect=1)
    assert "KAF-1000: 0 of 1 reserved" in refused
    run(cli, "stock", "receive", "KAF-1000", "1")
    assert "released" in run(cli, "orders", "release", "SO-000001")
    assert "SO-000001" in run(cli, "orders", "list", "--state", "released")

    run(cli, "orders", "hold", "SO-000001", "--reason", "Kunde ruft zurück")
    assert "On hold (manual): Kunde ruft zurück" in run(cli, "orders", "show", "SO-000001")
    assert "open again" in run(cli, "orders", "unhold", "SO-000001")
    run(cli, "orders", "cancel", "SO-000001", "--reason", "Kunde storniert")
    assert re.search(r"TAS-0002 .* 8 .* 0 .* 8", run(cli, "stock", "show"))
    again = run(cli, "orders", "cancel", "SO-000001", "--reason", "twice", expect=1)
    assert "Order SO-000001 is cancelled already" in again


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stock", "receive", "NOPE", "1"], "There is no article 'NOPE'"),
        (["stock", "receive", "TAS-0002", "1", "-w", "XX"], "There is no warehouse 'XX'"),
        (["orders", "show", "SO-999"], "There is no order 'SO-999'"),
        (["orders", "create", "--line", "TAS-0002:x:1", "--name", "A"], "--line 1 quantity"),
        (
            ["orders", "create", "--line", "TAS-0002:1:1", "--name", "A", "--country", "XX"],
            "country: 'XX' is not a country code",
        ),
        (
            [
                "orders",
                "create",
                "--line",
                "TAS-0002:1:1",
                "--name",
                "Erika Mustermann",
                "--street",
                "Weg 1",
                "--city",
                "Köln",
                "--country",
                "DE",
                "--postal-code",
                "5" * 22,
            ],
            "postal_code: is 22 characters long; at most 20 fit",
        ),
        (
            ["orders", "create", "--line", "TAS-0002:1:1.00001", "--name", "A"],
            "more than 4 decimals",
        ),
        (["stock", "adjust", "TAS-0002", "--by", "1", "--reason", "x" * 300], "at most 255"),
        (["orders", "release", "SO-000001"], "There is no order"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_exit_code_and_changes_nothing(
    cli: CliRunner, tmp_path: Path, engine: Engine, args: list[str], message: str
) -> None:
    run(cli, "init")
    catalogue = tmp_path / "c.csv"
    catalogue.write_text("article_number,name\nTAS-0002,Tassen\n")
    run(cli, "articles", "import", str(catalogue))
    before = row_counts(engine)
    output = run(cli, *args, expect=1)
    assert message in " ".join(output.split())
    assert "Traceback" not in output
    assert "Erika" not in output  # personal data is never echoed back
    assert row_counts(engine) == before


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def test_commands_on_a_database_that_is_not_set_up_say_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SELLERBRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SELLERBRIDGE_DATABASE_URL", raising=False)
    monkeypatch.delenv("SELLERBRIDGE_CONFIG", raising=False)
    output = run(CliRunner(), "orders", "list", expect=1)
    assert "is not set up" in output
    assert "sellerbridge init" in output
