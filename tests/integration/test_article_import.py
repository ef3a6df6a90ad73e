"""Article import: all rows or none, and never a change that breaks the stock rules."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sellerbridge.db.models import Article
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import stock
from sellerbridge.services.articles import ArticleImportRejected, import_articles, read_csv
from tests.helpers import place_order


def import_text(uow: UnitOfWork, text: str) -> None:
    import_articles(uow, *read_csv(text))


def rejected(uow: UnitOfWork, text: str) -> str:
    with pytest.raises(ArticleImportRejected) as raised:
        import_text(uow, text)
    return str(raised.value)


def test_every_bad_row_is_reported_with_its_line_even_after_blank_lines(
    workspace: UnitOfWork,
) -> None:
    message = rejected(
        workspace,
        "article_number,name,weight_g,components\n"
        "A-1,Good,10,\n"
        "\n"
        "A-2,Bad weight,-1,\n"
        "SET-1,Contains itself,,SET-1:2\n"
        "A-3,,5,\n",
    )
    assert "row 4 (A-2): weight_g: -1 must be at least 0" in message
    assert "row 5 (SET-1): components: SET-1 cannot be a component of itself" in message
    assert "row 6 (A-3): name: is empty" in message
    with workspace:
        assert workspace.session.scalars(select(Article)).all() == []


def test_backorders_cannot_be_switched_off_while_units_are_owed(catalogue: UnitOfWork) -> None:
    stock.receive(
        catalogue, article_number="FIL-0100", quantity=1, warehouse_code="MAIN", actor="t"
    )
    place_order(catalogue, ("FIL-0100", 5, "3.49"))  # backorders: 4 owed
    message = rejected(catalogue, "article_number,name,allow_backorder\nFIL-0100,Papierfilter,no\n")
    assert "allow_backorder: 4 unit(s) are reserved beyond the stock on hand" in message


def test_a_component_of_a_bundle_stays_a_tracked_article(catalogue: UnitOfWork) -> None:
    message = rejected(
        catalogue,
        'article_number,name,components\nMUE-0010,Mühle als Set,"TAS-0002:1"\n',
    )
    assert "component of SET-BARISTA" in message
    message = rejected(catalogue, "article_number,name,stock_tracked\nKAF-1000,Espresso,no\n")
    assert "component of SET-BARISTA" in message
    # Redefining the bundle without it in the same file makes the change fine.
    import_text(
        catalogue,
        "article_number,name,stock_tracked,components\n"
        'SET-BARISTA,Set,,"TAS-0002:1"\n'
        "KAF-1000,Espresso,no,\n",
    )


def test_stock_tracking_cannot_be_dropped_while_there_is_stock(catalogue: UnitOfWork) -> None:
    stock.receive(
        catalogue, article_number="TAS-0002", quantity=2, warehouse_code="MAIN", actor="t"
    )
    message = rejected(catalogue, "article_number,name,stock_tracked\nTAS-0002,Tassen,no\n")
    assert "must stay stock-tracked" in message


def test_reimporting_updates_articles_and_bundle_components_in_place(
    catalogue: UnitOfWork,
) -> None:
    import_text(
        catalogue,
        'article_number,name,components\nSET-BARISTA,Barista-Set neu,"MUE-0010:2; TAS-0002:1"\n',
    )
    with catalogue:
        bundle = catalogue.session.scalars(
            select(Article).where(Article.number == "SET-BARISTA")
        ).one()
        assert bundle.name == "Barista-Set neu"
        assert {(p.component.number, p.quantity) for p in bundle.components} == {
            ("MUE-0010", 2),
            ("TAS-0002", 1),
        }
