"""Article import from CSV: all rows or none.

A merchant importing a catalogue wants to fix a file and import it again, not to find out
which half of it made it in. So every row is checked first — its own fields, duplicates in the
file, components that must exist — and every problem is reported with its row number (the row
a spreadsheet shows: the header is row 1). Only a file without problems is written, in one
transaction. Rows whose article number exists already update that article.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sellerbridge.core.articles import CSV_COLUMNS, REQUIRED_CSV_COLUMNS, ArticleSpec
from sellerbridge.core.articles import article_spec_from_row as parse_row
from sellerbridge.core.errors import DomainError, InvalidFields
from sellerbridge.db.models import Article, BundleComponent, StockLevelRecord
from sellerbridge.db.uow import UnitOfWork


@dataclass(frozen=True)
class RowProblem:
    row: int
    article_number: str | None
    reasons: list[str]

    def __str__(self) -> str:
        label = f"row {self.row}" + (f" ({self.article_number})" if self.article_number else "")
        return f"{label}: {'; '.join(self.reasons)}"


class ArticleImportRejected(DomainError):
    """The file has problems; nothing was imported. ``problems`` lists them by row."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        rows = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(
            f"Nothing was imported: {len(problems)} row(s) have problems.\n{rows}",
            hint="\nFix these rows and import the file again.",
        )


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int


Row = tuple[int, Mapping[str, str | None]]
"""A CSV record with the number of the line it is on (the header is line 1)."""


def read_csv(text: str) -> tuple[list[str], list[Row]]:
    """Split CSV text into its header and rows; accepts ``,`` and ``;`` (spreadsheet) files."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    return header, [(reader.line_num, row) for row in reader]


def check_header(header: Sequence[str]) -> None:
    missing = [column for column in REQUIRED_CSV_COLUMNS if column not in header]
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s): {', '.join(unknown)}")
        raise DomainError(
            f"The header row is not usable: {'; '.join(parts)}.",
            hint=f"Columns are: {', '.join(CSV_COLUMNS)} (only the first two are required).",
        )


def import_articles(uow: UnitOfWork, header: Sequence[str], rows: Sequence[Row]) -> ImportSummary:
    check_header(header)
    if not rows:
        raise DomainError("The file has a header but no articles.")
    with uow:
        session = uow.session
        specs = _validated(session, rows)
        summary = _write(session, specs)
        uow.commit()
    return summary


def _validated(session: Session, rows: Sequence[Row]) -> list[ArticleSpec]:
    problems: list[RowProblem] = []
    specs: dict[str, ArticleSpec] = {}
    row_of: dict[str, int] = {}
    for row_number, row in rows:
        number = (row.get("article_number") or "").strip() or None
        if None in row:  # csv.DictReader puts surplus cells under the key None
            problems.append(RowProblem(row_number, number, ["more cells than the header has"]))
            continue
        try:
            spec = parse_row(row)
        except InvalidFields as invalid:
            problems.append(RowProblem(row_number, number, [str(p) for p in invalid.problems]))
            continue
        if spec.number in specs:
            problems.append(
                RowProblem(
                    row_number,
                    spec.number,
                    [f"article_number: {spec.number} is in row {row_of[spec.number]} already"],
                )
            )
            continue
        specs[spec.number] = spec
        row_of[spec.number] = row_number

    existing = _existing_articles(session, specs)
    for spec in specs.values():
        reasons = (
            _component_problems(spec, specs, existing)
            + _tracking_problems(session, spec, existing)
            + _bundle_membership_problems(session, spec, specs, existing)
        )
        if reasons:
            problems.append(RowProblem(row_of[spec.number], spec.number, reasons))
    if problems:
        raise ArticleImportRejected(sorted(problems, key=lambda problem: problem.row))
    return list(specs.values())


def _existing_articles(session: Session, specs: Mapping[str, ArticleSpec]) -> dict[str, Article]:
    wanted = set(specs) | {c.article_number for spec in specs.values() for c in spec.components}
    found = session.scalars(select(Article).where(Article.number.in_(wanted)))
    return {article.number: article for article in found}


def _component_problems(
    spec: ArticleSpec, specs: Mapping[str, ArticleSpec], existing: Mapping[str, Article]
) -> list[str]:
    reasons = []
    for component in spec.components:
        number = component.article_number
        target: ArticleSpec | Article | None = specs.get(number) or existing.get(number)
        if target is None:
            reasons.append(f"components: {number} is neither in this file nor known")
        elif target.is_bundle or not target.stock_tracked:
            reasons.append(
                f"components: {number} must be a stock-tracked article, "
                "not a bundle or an untracked one"
            )
    return reasons


def _tracking_problems(
    session: Session, spec: ArticleSpec, existing: Mapping[str, Article]
) -> list[str]:
    """Stock rules an existing article's stock would break under the new settings."""
    article = existing.get(spec.number)
    if article is None or not article.stock_tracked:
        return []
    levels = session.scalars(
        select(StockLevelRecord).where(StockLevelRecord.article_id == article.id)
    ).all()
    if not spec.stock_tracked and any(level.on_hand or level.reserved for level in levels):
        return [
            "stock_tracked: the article has stock or reservations, so it must stay "
            "stock-tracked (book its stock to zero and settle its orders first)"
        ]
    owed = sum(max(level.reserved - level.on_hand, 0) for level in levels)
    if article.allow_backorder and not spec.allow_backorder and owed:
        return [
            f"allow_backorder: {owed} unit(s) are reserved beyond the stock on hand, so "
            "backorders must stay allowed until that stock arrives or those orders are cancelled"
        ]
    return []


def _bundle_membership_problems(
    session: Session,
    spec: ArticleSpec,
    specs: Mapping[str, ArticleSpec],
    existing: Mapping[str, Article],
) -> list[str]:
    """A component of a bundle must stay a stock-tracked article that is not a bundle itself."""
    article = existing.get(spec.number)
    if article is None or (spec.stock_tracked and not spec.is_bundle):
        return []
    bundles = session.scalars(
        select(Article)
        .join(BundleComponent, BundleComponent.bundle_id == Article.id)
        .where(BundleComponent.component_id == article.id)
        .order_by(Article.number)
    ).all()
    still_using = [
        bundle.number
        for bundle in bundles
        if bundle.number not in specs
        or any(c.article_number == spec.number for c in specs[bundle.number].components)
    ]
    if not still_using:
        return []
    return [
        f"components: the article is a component of {', '.join(still_using)}, so it must stay "
        "a stock-tracked article (not a bundle and not untracked)"
    ]


def _write(session: Session, specs: list[ArticleSpec]) -> ImportSummary:
    existing = _existing_articles(session, {spec.number: spec for spec in specs})
    created = updated = 0
    for spec in specs:
        article = existing.get(spec.number)
        if article is None:
            article = Article(number=spec.number)
            session.add(article)
            existing[spec.number] = article
            created += 1
        else:
            updated += 1
        article.name = spec.name
        article.gtin = spec.gtin
        article.tax_class = spec.tax_class
        article.weight_g = spec.weight_g
        article.stock_tracked = spec.stock_tracked
        article.allow_backorder = spec.allow_backorder
    session.flush()
    for spec in specs:
        _set_components(existing[spec.number], spec, existing)
    return ImportSummary(created=created, updated=updated)


def _set_components(bundle: Article, spec: ArticleSpec, articles: Mapping[str, Article]) -> None:
    """Update the bundle's components in place (replacing the rows would reuse their keys)."""
    current = {part.component_id: part for part in bundle.components}
    wanted = {articles[c.article_number].id: c.quantity for c in spec.components}
    for component_id, part in current.items():
        if component_id in wanted:
            part.quantity = wanted[component_id]
        else:
            bundle.components.remove(part)
    for component_id, quantity in wanted.items():
        if component_id not in current:
            bundle.components.append(
                BundleComponent(bundle_id=bundle.id, component_id=component_id, quantity=quantity)
            )
