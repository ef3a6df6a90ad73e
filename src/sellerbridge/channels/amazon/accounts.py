"""Amazon accounts: connecting one, checking the connection, and a client for it.

Connecting stores the LWA credentials encrypted, the marketplaces the seller takes part in
(from ``getMarketplaceParticipations``), and one ERP sales channel per marketplace and
fulfilment type — the equivalent of Xentral's ``de_FBM`` / ``de_FBA`` projects: FBM orders go
to the main warehouse, FBA orders to the read-only FBA warehouse of the region, both numbered
from the ``amazon`` order series. Each mapping can be changed later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, exists, func, select
from sqlalchemy.orm import Session

from sellerbridge.channels.amazon.spapi import (
    AuthError,
    AuthReason,
    BucketStore,
    Credentials,
    DatabaseBucketStore,
    DatabaseCallRecorder,
    Endpoint,
    MarketplaceParticipation,
    RedisBucketStore,
    RetryPolicy,
    SpApiClient,
    SpApiError,
)
from sellerbridge.config import Settings
from sellerbridge.core.channels import ChannelKind
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.errors import AlreadyExists, DomainError, InvalidInput, NotFound
from sellerbridge.core.orders import OrderState
from sellerbridge.core.warehouses import WarehouseKind
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonChannel,
    AmazonMarketplace,
    Document,
    Fulfillment,
    ImportMode,
    InvoiceMode,
    NumberSeries,
    SalesChannel,
    SalesOrder,
    Warehouse,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.secrets import SecretBox
from sellerbridge.services.lookup import warehouse_by_code
from sellerbridge.services.setup import MAIN_WAREHOUSE

REGIONS = ("EU", "NA", "FE")
ORDER_SERIES = "amazon"
ACCOUNT_NAME_MAX = 16  # channel codes are "amazon-<name>-<country>-<fbm|fba>", 40 at most


@dataclass(frozen=True)
class Connection:
    """What the merchant gives to connect an account (secrets in the clear, in memory only)."""

    name: str
    region: str
    seller_id: str
    credentials: Credentials
    api_endpoint: str | None = None
    """The sandbox's URL instead of Amazon's host; its LWA endpoint is ``<url>/auth/o2/token``."""
    import_mode: ImportMode = ImportMode.MANUAL
    import_fbm: bool = True
    import_fba: bool = True
    start_date: datetime | None = None


def client_for(
    account: AmazonAccount,
    box: SecretBox,
    *,
    engine: Engine,
    settings: Settings,
    timeout: float | None = None,
    retry: RetryPolicy | None = None,
) -> SpApiClient:
    """An SP-API client for ``account``, metered by the buckets every process shares.

    ``timeout`` (seconds per request) and ``retry`` replace the client's defaults.
    """
    options: dict[str, Any] = {}
    if timeout is not None:
        options["timeout"] = timeout
    if retry is not None:
        options["retry"] = retry
    return _client(
        account.seller_id,
        stored_credentials(account, box),
        account.region,
        account.api_endpoint,
        engine=engine,
        settings=settings,
        **options,
    )


def _client(
    seller_id: str,
    credentials: Credentials,
    region: str,
    api_endpoint: str | None,
    *,
    engine: Engine,
    settings: Settings,
    **options: Any,
) -> SpApiClient:
    return SpApiClient(
        seller_id=seller_id,
        credentials=credentials,
        endpoint=Endpoint.custom(api_endpoint) if api_endpoint else Endpoint.for_region(region),
        buckets=shared_buckets(engine, settings),
        recorder=DatabaseCallRecorder(engine),
        **options,
    )


def shared_buckets(engine: Engine, settings: Settings) -> BucketStore:
    """The rate-limit buckets all processes share: in Redis when configured, else the database."""
    if settings.redis_url:
        return RedisBucketStore.from_url(settings.redis_url)
    return DatabaseBucketStore(engine)


def discover(
    connection: Connection, *, engine: Engine, settings: Settings
) -> list[MarketplaceParticipation]:
    """The seller's marketplaces, read with the credentials given (checks them too)."""
    checked = validated(connection)
    with _client(checked.seller_id, checked.credentials, checked.region, checked.api_endpoint,
                 engine=engine, settings=settings) as client:  # fmt: skip
        return client.get_marketplace_participations()


def validated(connection: Connection) -> Connection:
    """The connection with its name and region in canonical form, or a clear error."""
    region = connection.region.strip().upper()
    if region not in REGIONS:
        raise InvalidInput(
            "region", f"{connection.region!r} is not a region", hint="Use EU, NA or FE."
        )
    name = connection.name.strip().lower()
    if not name or len(name) > ACCOUNT_NAME_MAX or not name.replace("-", "").isalnum():
        raise InvalidInput(
            "name",
            f"{connection.name!r} is not a usable account name",
            hint=f"Use up to {ACCOUNT_NAME_MAX} letters, digits and dashes, e.g. 'main'.",
        )
    return replace(connection, name=name, region=region)


def connect(
    uow: UnitOfWork,
    box: SecretBox,
    connection: Connection,
    participations: list[MarketplaceParticipation],
    *,
    now: datetime,
) -> AmazonAccount:
    """Store a connected account with its marketplaces and channels; returns it."""
    connection = validated(connection)
    name, region = connection.name, connection.region
    with uow:
        session = uow.session
        if session.scalars(select(AmazonAccount).where(AmazonAccount.name == name)).first():
            raise AlreadyExists(f"An Amazon account named {name!r} is connected already.")
        account = AmazonAccount(
            name=name,
            region=region,
            seller_id=connection.seller_id,
            lwa_client_id=connection.credentials.client_id,
            lwa_client_secret_encrypted=box.encrypt(connection.credentials.client_secret),
            refresh_token_encrypted=box.encrypt(connection.credentials.refresh_token),
            api_endpoint=connection.api_endpoint,
            import_mode=connection.import_mode,
            import_fbm=connection.import_fbm,
            import_fba=connection.import_fba,
            # Whole seconds, as Amazon's order times: an order placed in the second the
            # account was connected belongs to it.
            start_date=(connection.start_date or now).replace(microsecond=0),
        )
        session.add(account)
        _add_marketplaces(session, account, participations, enabled=True)
        uow.commit()
    return account


def add_new_marketplaces(
    uow: UnitOfWork, name: str | None, participations: list[MarketplaceParticipation]
) -> list[str]:
    """Store the marketplaces the seller joined since the account was connected, with their
    channels, not yet imported (the merchant decides); returns their country codes."""
    with uow:
        account = account_by_name(uow.session, name)
        added = _add_marketplaces(uow.session, account, participations, enabled=False)
        uow.commit()
    return added


def _add_marketplaces(
    session: Session,
    account: AmazonAccount,
    participations: list[MarketplaceParticipation],
    *,
    enabled: bool,
) -> list[str]:
    known = {marketplace.marketplace_id for marketplace in account.marketplaces}
    added = [
        AmazonMarketplace(
            marketplace_id=participation.marketplace.id,
            country_code=participation.marketplace.country_code,
            name=participation.marketplace.name,
            currency=participation.marketplace.default_currency_code,
            participating=participation.participation.is_participating,
            import_enabled=enabled and participation.participation.is_participating,
        )
        for participation in participations
        if participation.marketplace.id not in known
    ]
    account.marketplaces.extend(added)
    session.flush()
    _create_channels(session, account, added)
    return [marketplace.country_code for marketplace in added]


def _create_channels(
    session: Session, account: AmazonAccount, marketplaces: list[AmazonMarketplace]
) -> None:
    main = session.scalars(select(Warehouse).where(Warehouse.code == MAIN_WAREHOUSE)).first()
    if main is None:
        raise NotFound(
            f"There is no warehouse {MAIN_WAREHOUSE} for merchant-fulfilled orders.",
            hint="Run `sellerbridge init` first.",
        )
    fba = _fba_warehouse(session, account.region)
    _ensure_order_series(session)
    for marketplace in marketplaces:
        for fulfillment, warehouse in ((Fulfillment.FBM, main), (Fulfillment.FBA, fba)):
            country = marketplace.country_code.lower()
            mode = mode_of(account, fulfillment)
            channel = SalesChannel(
                code=f"amazon-{account.name}-{country}-{fulfillment.value.lower()}",
                name=f"Amazon {marketplace.country_code} {fulfillment.value} ({account.name})",
                kind=ChannelKind.AMAZON,
                warehouse=warehouse,
                order_series=ORDER_SERIES,
                fulfilled_externally=fulfillment is Fulfillment.FBA,
                # A marketplace added under VCS with Amazon issuing: Amazon invoices its orders.
                channel_invoices_from=switch_time() if mode is InvoiceMode.VCS_AMAZON else None,
                # under VCS with own invoices, invoiced from Amazon's VAT calculation
                vat_data_from=switch_time() if mode is InvoiceMode.VCS_OWN else None,
            )
            session.add(
                AmazonChannel(
                    account_id=account.id,
                    marketplace_id=marketplace.marketplace_id,
                    fulfillment=fulfillment,
                    channel=channel,
                )
            )


def switch_time() -> datetime:
    """Now, to the whole second down: the start of an invoice mode switched now."""
    return utcnow().replace(microsecond=0)


def mode_of(account: AmazonAccount, fulfillment: Fulfillment) -> InvoiceMode:
    """The account's invoice mode for its ``fulfillment`` orders."""
    if fulfillment is Fulfillment.FBM:
        return account.invoice_mode_fbm
    return account.invoice_mode_fba


def _set_invoice_mode(
    session: Session,
    account: AmazonAccount,
    fulfillment: Fulfillment,
    mode: InvoiceMode,
    force_from: datetime | None,
) -> None:
    """Change who invoices the account's ``fulfillment`` orders, refusing a change that would
    invoice an order twice (once by sellerbridge, once by Amazon)."""
    current = mode_of(account, fulfillment)
    if mode is current:
        return
    channels = list(
        session.scalars(
            select(SalesChannel)
            .join(AmazonChannel, AmazonChannel.channel_id == SalesChannel.id)
            .where(AmazonChannel.account_id == account.id, AmazonChannel.fulfillment == fulfillment)
        )
    )
    if current is InvoiceMode.VCS_AMAZON:
        raise DomainError(
            f"Amazon issues the invoices of {account.name}'s {fulfillment.value} orders; "
            "sellerbridge would invoice some of them again.",
            hint="Switching back from vcs_amazon is not supported yet.",
        )
    if current is InvoiceMode.VCS_OWN and (waiting := _waiting_for_vat_data(session, channels)):
        raise DomainError(
            f"{waiting} shipped {fulfillment.value} order(s) of {account.name} wait for their "
            "invoice from Amazon's VAT calculation; after the switch nothing would invoice "
            "them.",
            hint="Let `sellerbridge amazon upload` issue them once Amazon reports them, then "
            "switch.",
        )
    invoices = (
        select(func.count(Document.id))
        .join(SalesOrder, SalesOrder.id == Document.order_id)
        .where(SalesOrder.channel_id.in_([c.id for c in channels]),
               Document.kind == DocumentKind.INVOICE)
    )  # fmt: skip
    if (
        force_from is not None
        and mode in (InvoiceMode.VCS_AMAZON, InvoiceMode.VCS_OWN)
        and (later := session.scalar(invoices.where(SalesOrder.ordered_at >= force_from)))
    ):
        again = (
            "Amazon would invoice them again."
            if mode is InvoiceMode.VCS_AMAZON
            else "they would be invoiced again from Amazon's VAT calculation."
        )
        raise DomainError(
            f"sellerbridge has invoiced {later} {fulfillment.value} order(s) placed on or "
            f"after {force_from:%Y-%m-%d}; {again}",
            hint="Choose a later day for --force-from.",
        )
    # Amazon states order times in whole seconds: an order placed in the second of the switch
    # counts as after it, so that sellerbridge never invoices one Amazon also invoices.
    start = force_from or switch_time()
    # The orders placed from the start are invoiced from Amazon's VAT calculation (vcs_own).
    for channel in channels:
        channel.vat_data_from = start if mode is InvoiceMode.VCS_OWN else None
    if mode is InvoiceMode.VCS_AMAZON:
        issued = session.scalar(invoices)
        if issued and force_from is None:
            raise DomainError(
                f"sellerbridge has issued {issued} invoice(s) for {account.name}'s "
                f"{fulfillment.value} orders. With VCS and Amazon issuing, Amazon invoices "
                "orders too, so an order placed before the switch could be invoiced twice.",
                hint="Name the day from which Amazon issues the invoices (orders placed from "
                "then on): --force-from DAY. Orders before it keep sellerbridge's invoices.",
            )
        for channel in channels:
            channel.channel_invoices_from = start
    if fulfillment is Fulfillment.FBM:
        account.invoice_mode_fbm = mode
    else:
        account.invoice_mode_fba = mode


def _waiting_for_vat_data(session: Session, channels: list[SalesChannel]) -> int:
    """Shipped orders of ``channels`` still to be invoiced from Amazon's VAT calculation."""
    return session.scalar(
        select(func.count(SalesOrder.id))
        .join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
        .where(
            SalesChannel.id.in_([channel.id for channel in channels]),
            SalesChannel.vat_data_from.is_not(None),
            SalesOrder.ordered_at >= SalesChannel.vat_data_from,
            SalesOrder.state.in_((OrderState.PARTIALLY_SHIPPED, OrderState.SHIPPED,
                                  OrderState.COMPLETED)),
            ~exists().where(Document.order_id == SalesOrder.id,
                            Document.kind == DocumentKind.INVOICE),
        )
    ) or 0  # fmt: skip


def _fba_warehouse(session: Session, region: str) -> Warehouse:
    code = f"FBA-{region}"
    warehouse = session.scalars(select(Warehouse).where(Warehouse.code == code)).first()
    if warehouse is None:
        warehouse = Warehouse(
            code=code, name=f"Amazon FBA {region}", kind=WarehouseKind.FBA, read_only=True
        )
        session.add(warehouse)
    return warehouse


def _ensure_order_series(session: Session) -> None:
    exists = session.scalars(
        select(NumberSeries).where(
            NumberSeries.document_type == "sales_order", NumberSeries.series == ORDER_SERIES
        )
    ).first()
    if exists is None:
        session.add(
            NumberSeries(
                document_type="sales_order",
                series=ORDER_SERIES,
                prefix="AZ-",
                width=7,
                next_value=1,
            )
        )


def account_by_name(session: Session, name: str | None) -> AmazonAccount:
    """The account called ``name``, or the only one when no name is given."""
    accounts = session.scalars(select(AmazonAccount).order_by(AmazonAccount.id)).all()
    if name is None:
        if len(accounts) == 1:
            return accounts[0]
        if not accounts:
            raise NotFound(
                "No Amazon account is connected.",
                hint="Connect one with `sellerbridge amazon connect`.",
            )
        names = ", ".join(account.name for account in accounts)
        raise DomainError(
            "Several Amazon accounts are connected.", hint=f"Name one with --account ({names})."
        )
    for account in accounts:
        if account.name == name.strip().lower():
            return account
    raise NotFound(f"There is no Amazon account {name!r}.")


def stored_credentials(account: AmazonAccount, box: SecretBox) -> Credentials:
    return Credentials(
        client_id=account.lwa_client_id,
        client_secret=box.decrypt(account.lwa_client_secret_encrypted),
        refresh_token=box.decrypt(account.refresh_token_encrypted),
    )


def replace_credentials(
    uow: UnitOfWork,
    box: SecretBox,
    name: str | None,
    credentials: Credentials,
    *,
    engine: Engine,
    settings: Settings,
) -> AmazonAccount:
    """Store new LWA credentials (a rotated client secret, a new authorisation) for an account,
    once Login with Amazon accepts them."""
    with uow:
        account = account_by_name(uow.session, name)
        region, api_endpoint, seller_id = account.region, account.api_endpoint, account.seller_id
    with _client(seller_id, credentials, region, api_endpoint, engine=engine,
                 settings=settings) as client:  # fmt: skip
        client.access_token(fresh=True)
    with uow:
        account = account_by_name(uow.session, name)
        account.lwa_client_id = credentials.client_id
        account.lwa_client_secret_encrypted = box.encrypt(credentials.client_secret)
        account.refresh_token_encrypted = box.encrypt(credentials.refresh_token)
        uow.commit()
    return account


def configure(
    uow: UnitOfWork,
    name: str | None,
    *,
    mode: ImportMode | None = None,
    fbm: bool | None = None,
    fba: bool | None = None,
    start_date: datetime | None = None,
    marketplaces: list[str] | None = None,
    mail_fba_invoices: bool | None = None,
    stock_sync: bool | None = None,
    invoice_modes: dict[Fulfillment, InvoiceMode] | None = None,
    invoice_upload_from: datetime | None = None,
    force_from: datetime | None = None,
) -> AmazonAccount:
    """Change an account's import rules; what is not given stays as it is.

    ``marketplaces`` names (by country code or marketplace id) the marketplaces to import;
    the others are no longer imported.
    """
    with uow:
        account = account_by_name(uow.session, name)
        if mode is not None:
            account.import_mode = mode
        if fbm is not None:
            account.import_fbm = fbm
        if fba is not None:
            account.import_fba = fba
        if mail_fba_invoices is not None:
            account.mail_fba_invoices = mail_fba_invoices
        if stock_sync is not None:
            account.stock_sync = stock_sync
        for fulfillment, invoices in (invoice_modes or {}).items():
            _set_invoice_mode(uow.session, account, fulfillment, invoices, force_from)
        if invoice_upload_from is not None:
            account.invoice_upload_from = invoice_upload_from
        if start_date is not None:
            account.start_date = start_date.replace(microsecond=0)
        if marketplaces is not None:
            chosen = {_marketplace(account, code).marketplace_id for code in marketplaces}
            for marketplace in account.marketplaces:
                marketplace.import_enabled = marketplace.marketplace_id in chosen
        uow.commit()
    return account


def _marketplace(account: AmazonAccount, code: str) -> AmazonMarketplace:
    wanted = code.strip().upper()
    for marketplace in account.marketplaces:
        if wanted in (marketplace.country_code, marketplace.marketplace_id.upper()):
            return marketplace
    known = ", ".join(m.country_code for m in account.marketplaces)
    raise InvalidInput(
        "marketplace",
        f"{code!r} is not a marketplace of account {account.name}",
        hint=f"Use one of {known}.",
    )


def set_channel(
    uow: UnitOfWork,
    name: str | None,
    *,
    marketplace: str,
    fulfillment: Fulfillment,
    warehouse: str | None = None,
    series: str | None = None,
) -> SalesChannel:
    """Choose the warehouse and order number series of one marketplace's FBM or FBA orders."""
    with uow:
        session = uow.session
        account = account_by_name(session, name)
        marketplace_id = _marketplace(account, marketplace).marketplace_id
        channel = session.scalars(
            select(SalesChannel)
            .join(AmazonChannel, AmazonChannel.channel_id == SalesChannel.id)
            .where(
                AmazonChannel.account_id == account.id,
                AmazonChannel.marketplace_id == marketplace_id,
                AmazonChannel.fulfillment == fulfillment,
            )
        ).one()
        if warehouse is not None:
            target = warehouse_by_code(session, warehouse)
            wanted = WarehouseKind.FBA if fulfillment is Fulfillment.FBA else WarehouseKind.OWN
            if target.kind != wanted:
                where = "Amazon's FBA" if wanted is WarehouseKind.FBA else "your own"
                raise InvalidInput(
                    "warehouse",
                    f"{fulfillment.value} orders ship from {where} warehouses, and "
                    f"{target.code} is not one",
                )
            channel.warehouse = target
        if series is not None:
            known = session.scalars(
                select(NumberSeries).where(
                    NumberSeries.document_type == "sales_order", NumberSeries.series == series
                )
            ).first()
            if known is None:
                raise NotFound(f"There is no order number series {series!r}.")
            channel.order_series = series
        uow.commit()
    return channel


def credentials_hint(error: AuthError) -> str | None:
    """How to store credentials that work, when Amazon refused the stored ones."""
    if error.reason is AuthReason.AUTHORISATION_REVOKED:
        return "To store it: `sellerbridge amazon credentials --refresh-token`."
    if error.reason is AuthReason.WRONG_CLIENT_CREDENTIALS:
        return "To store them: `sellerbridge amazon credentials --client-id ID --client-secret`."
    return None


@dataclass(frozen=True)
class CheckStep:
    name: str
    ok: bool
    detail: str


def check(client: SpApiClient) -> tuple[list[CheckStep], list[MarketplaceParticipation]]:
    """Test a connection like Xentral's "Verbindung prüfen": token, API, marketplaces.

    Each step says what it found; the first failing step says why, in words an operator can
    act on, and the steps after it are not tried. Returns the steps and the marketplaces found.
    """
    steps: list[CheckStep] = []
    try:
        client.access_token(fresh=True)
        steps.append(CheckStep("Login with Amazon", True, "the refresh token gives access tokens"))
        participations = client.get_marketplace_participations()
        steps.append(CheckStep("SP-API", True, "reachable, and the app's roles suffice"))
    except SpApiError as error:
        step = "Login with Amazon" if not steps else "SP-API"
        hint = credentials_hint(error) if isinstance(error, AuthError) else None
        steps.append(CheckStep(step, False, f"{error} {hint}" if hint else str(error)))
        return steps, []
    active = [p for p in participations if p.participation.is_participating]
    suspended = [p for p in participations if p.participation.has_suspended_listings]
    detail = ", ".join(p.marketplace.country_code for p in active) or "none"
    steps.append(CheckStep("Marketplaces", bool(active), f"selling on {detail}"))
    if suspended:
        countries = ", ".join(p.marketplace.country_code for p in suspended)
        steps.append(CheckStep("Listings", False, f"suspended listings on {countries}"))
    return steps, participations
