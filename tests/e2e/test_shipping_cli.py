"""``sellerbridge ship`` and ``sellerbridge import-tracking`` as an operator uses them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.e2e.test_cli import run

CATALOGUE = "article_number;name;tax_class;stock_tracked\nKAF-1000;Espresso 1 kg;reduced;yes\n"


def shop_with_orders(cli: CliRunner, tmp_path: Path, count: int) -> None:
    run(cli, "init")
    (tmp_path / "articles.csv").write_text(CATALOGUE, encoding="utf-8")
    run(cli, "articles", "import", str(tmp_path / "articles.csv"))
    run(cli, "stock", "receive", "KAF-1000", "20")
    for _ in range(count):
        run(cli, "orders", "create", "--line", "KAF-1000:3:24.90", "--name", "Max Mustermann",
            "--street", "Hauptstraße 1", "--postal-code", "10115", "--city", "Berlin",
            "--country", "DE")  # fmt: skip


def test_an_order_ships_in_two_parcels_from_the_command_line(
    cli: CliRunner, tmp_path: Path
) -> None:
    shop_with_orders(cli, tmp_path, 1)
    refused = " ".join(run(cli, "ship", "SO-000001", "--carrier", "DHL", expect=1).split())
    assert "only a released order ships" in refused
    assert "sellerbridge orders release" in refused
    run(cli, "orders", "release", "SO-000001")
    run(cli, "ship", "SO-000001", "--carrier", "DHL", "--tracking", "111", "--line", "1:1")
    assert "partially shipped" in run(cli, "orders", "show", "SO-000001")
    run(cli, "ship", "SO-000001", "--carrier", "DHL", "--tracking", "222")
    shown = run(cli, "orders", "show", "SO-000001")
    assert "Partially shipped → shipped" in shown
    assert "tracking 222" in shown
    stock = " ".join(run(cli, "stock", "show", "KAF-1000").split())
    assert "│ MAIN │ 17 │ 0 │ 17 │" in stock  # 20 received, 3 shipped, nothing reserved


def test_tracking_numbers_from_a_carrier_tool_ship_the_orders_and_name_bad_rows(
    cli: CliRunner, tmp_path: Path
) -> None:
    shop_with_orders(cli, tmp_path, 3)
    for number in ("SO-000001", "SO-000002"):
        run(cli, "orders", "release", number)
    csv_file = tmp_path / "tracking.csv"
    csv_file.write_text(
        "order;carrier;tracking;method\n"
        "SO-000001;DHL;00340434161094042557;DHL Paket\n"
        "SO-000003;DHL;00340434161094042558;DHL Paket\n"  # not released yet
        "SO-000002;GLS;GLS-778899;\n",
        encoding="utf-8",
    )
    output = " ".join(run(cli, "import-tracking", str(csv_file), expect=1).split())
    assert "row 3 (SO-000003): Order SO-000003 is open; only a released order ships" in output
    assert "2 of 3 parcel(s) shipped" in output
    assert "shipped" in run(cli, "orders", "show", "SO-000002")


def test_orders_due_lists_the_late_and_the_urgent_first(cli: CliRunner, tmp_path: Path) -> None:
    shop_with_orders(cli, tmp_path, 1)  # no ship-by date: not listed
    for ship_by in ("2026-01-02T10:00", "2099-01-01T10:00"):
        run(cli, "orders", "create", "--line", "KAF-1000:1:24.90", "--name", "Erika Muster",
            "--street", "Hauptstraße 2", "--postal-code", "10115", "--city", "Berlin",
            "--country", "DE", "--ship-by", ship_by)  # fmt: skip
    output = " ".join(run(cli, "orders", "due", "--hours", "48").split())
    assert "SO-000002" in output
    assert "(late)" in output
    assert "SO-000001" not in output
    assert "SO-000003" not in output  # far in the future
    assert "1 order(s) to ship within 48 hour(s) or late" in output
