"""``sellerbridge sandbox``: run the offline SP-API, and steer a running one.

``serve`` starts the sandbox in this process. Every other command talks to a running sandbox
over its admin API (``--url``, default ``$SELLERBRIDGE_SANDBOX_URL`` or
``http://127.0.0.1:8600``), so a test, a demo or a person can change its world while a
connector works against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import uvicorn
from rich.console import Console

from sellerbridge.cli.render import table
from sellerbridge.core.errors import DomainError
from sellerbridge.sandbox import SandboxConfig, build_sandbox, create_app
from sellerbridge.sandbox.faults import FaultKind

DEFAULT_PORT = 8600

app = typer.Typer(help="The offline SP-API sandbox: serve it, or steer a running one.")
sellers_app = typer.Typer(help="Sellers of a running sandbox.", no_args_is_help=True)
orders_app = typer.Typer(help="Orders of a running sandbox.", no_args_is_help=True)
faults_app = typer.Typer(help="Faults a running sandbox injects.", no_args_is_help=True)
app.add_typer(sellers_app, name="sellers")
app.add_typer(orders_app, name="orders")
app.add_typer(faults_app, name="faults")

_console = Console(markup=False, highlight=False)

Url = Annotated[
    str,
    typer.Option(envvar="SELLERBRIDGE_SANDBOX_URL", help="Base URL of the running sandbox."),
]
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
    seed: Annotated[int, typer.Option(help="Seed of all generated data and credentials.")] = 1,
    orders: Annotated[int, typer.Option(help="Orders to generate for the default seller.")] = 0,
    time_scale: Annotated[
        float, typer.Option(help="Multiply every rate limit, divide every delay, by this.")
    ] = 1.0,
    state: Annotated[
        Path | None, typer.Option(help="JSON file to keep the state in between runs.")
    ] = None,
) -> None:
    """Serve SP-API on HTTP until interrupted (Ctrl-C); the state is saved on the way out."""
    if time_scale <= 0:
        raise DomainError("--time-scale must be greater than 0.")
    config = SandboxConfig(seed=seed, orders=orders, time_scale=time_scale, state_file=state)
    with _console.status(f"Preparing the sandbox ({orders} orders) ..."):
        sandbox = build_sandbox(config)
    base_url = f"http://{host}:{port}"
    _console.print(f"SP-API sandbox on {base_url}", style="bold")
    _console.print(f"  LWA token endpoint: {base_url}/auth/o2/token")
    _console.print(f"  time scale {time_scale:g}, seed {seed}, state {state or 'in memory'}")
    # Credentials are printed without wrapping, so that copying them gives them whole.
    application = sandbox.application
    _console.print(f"LWA client id      {application.client_id}", soft_wrap=True)
    _console.print(f"LWA client secret  {application.client_secret}", soft_wrap=True)
    for seller in sandbox.state.sellers.values():
        orders_of = sum(
            o.seller_id == seller.seller_id for o in sandbox.state.orders.orders.values()
        )
        _console.print(f"Seller {seller.seller_id} ({seller.name}), {orders_of} orders")
        _console.print(f"  refresh token  {seller.refresh_token}", soft_wrap=True)
    _console.print("These are sandbox credentials; they open nothing at Amazon.")
    uvicorn.run(create_app(sandbox=sandbox), host=host, port=port, log_level="warning")


def _admin(url: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
    """Call the admin API; explain an unreachable sandbox or a refused request."""
    try:
        response = httpx.request(
            method,
            f"{url.rstrip('/')}/_sandbox{path}",
            json=body,
            params={k: v for k, v in params.items() if v is not None},
            timeout=60,
        )
    except httpx.TransportError as error:
        raise DomainError(
            f"No sandbox answers at {url} ({error}).",
            hint="Start one with `sellerbridge sandbox serve`, or give --url.",
        ) from None
    if response.status_code != 200:
        try:
            problem = response.json()["errors"][0]
            reason = problem["message"] + (
                f" ({problem['details']})" if problem.get("details") else ""
            )
        except (ValueError, KeyError, IndexError):
            reason = response.text
        raise DomainError(f"The sandbox refused: {reason}")
    return response.json()


def _print_json(value: Any) -> None:
    _console.print(json.dumps(value, indent=2, ensure_ascii=False))


@sellers_app.command("create")
def create_seller(
    name: Annotated[str, typer.Option(help="Store name.")],
    marketplace: Annotated[
        list[str] | None,
        typer.Option(help="Marketplace code or id (repeat); default: all of Europe."),
    ] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Create a seller; prints the LWA credentials for `sellerbridge amazon connect`."""
    body: dict[str, Any] = {"name": name}
    if marketplace:
        body["marketplaces"] = marketplace
    _print_json(_admin(url, "POST", "/sellers", body))


@sellers_app.command("list")
def list_sellers(url: Url = DEFAULT_URL) -> None:
    """List the sellers and their marketplaces."""
    output = table(None, "Seller", "Name", "Marketplaces", "Revoked")
    for seller in _admin(url, "GET", "/sellers"):
        output.add_row(
            seller["seller_id"],
            seller["name"],
            ", ".join(seller["marketplace_ids"]),
            "yes" if seller["revoked"] else "",
        )
    _console.print(output)


@sellers_app.command("revoke")
def revoke(seller_id: str, url: Url = DEFAULT_URL) -> None:
    """The seller withdraws the app's authorisation: its tokens stop working."""
    _admin(url, "POST", f"/sellers/{seller_id}/revoke")
    _console.print(f"Authorisation of {seller_id} revoked.")


@sellers_app.command("suspend")
def suspend(seller_id: str, marketplace: str, url: Url = DEFAULT_URL) -> None:
    """Suspend the seller on one marketplace (code or id)."""
    _admin(url, "POST", f"/sellers/{seller_id}/marketplaces/{marketplace}/suspend")
    _console.print(f"{seller_id} is suspended on {marketplace}.")


@sellers_app.command("health")
def account_health(
    seller_id: str,
    marketplace: Annotated[
        str | None, typer.Option(help="Marketplace code or id; default: all of the seller's.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A figure as name=value, e.g. accountStatus=AT_RISK or lateShipmentRate=0.06.",
        ),
    ] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Change account-health figures the seller performance report shows."""
    body: dict[str, Any] = {}
    for pair in set_ or []:
        name, separator, value = pair.partition("=")
        if not separator:
            raise DomainError(f"--set {pair!r} is not name=value.")
        body[name.strip()] = json.loads(value) if _is_number(value) else value
    if marketplace:
        body["marketplace"] = marketplace
    _print_json(_admin(url, "PUT", f"/sellers/{seller_id}/account-health", body))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@orders_app.command("generate")
def generate_orders(
    count: Annotated[int, typer.Argument(min=1)],
    seller: Annotated[str | None, typer.Option(help="Seller id; default: the first.")] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Generate realistic orders, dated back from now."""
    body: dict[str, Any] = {"count": count}
    if seller:
        body["seller_id"] = seller
    result = _admin(url, "POST", "/orders/generate", body)
    _console.print(f"{result['generated']} order(s) generated.")


@orders_app.command("event")
def order_event(
    order_id: str,
    event: Annotated[str, typer.Argument(help="pay, ship_fba, request_cancel, cancel or deliver.")],
    reason: Annotated[str | None, typer.Option(help="Why (cancellations).")] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Move an order through its lifecycle, as buyers and Amazon do."""
    body: dict[str, Any] = {"event": event}
    if reason:
        body["reason"] = reason
    order = _admin(url, "POST", f"/orders/{order_id}/events", body)
    _console.print(f"Order {order_id} is {order['status']}.")


@orders_app.command("list")
def list_orders(
    seller: Annotated[str | None, typer.Option(help="Only this seller's.")] = None,
    status: Annotated[str | None, typer.Option(help="e.g. UNSHIPPED, SHIPPED.")] = None,
    last: Annotated[int, typer.Option(min=1)] = 30,
    url: Url = DEFAULT_URL,
) -> None:
    """Orders with their packages and tracking numbers, newest last."""
    output = table(None, "Order", "Marketplace", "By", "Status", "Total>", "Packages")
    for order in _admin(url, "GET", "/orders", seller_id=seller, status=status)[-last:]:
        packages = ", ".join(
            f"{p['carrier_code']} {p['tracking_number']}" for p in order["packages"]
        )
        output.add_row(
            order["order_id"],
            order["marketplace_id"],
            order["fulfilled_by"],
            order["status"],
            f"{order['grand_total']} {order['currency']}",
            packages,
        )
    _console.print(output)


@app.command()
def listings(
    seller: Annotated[str | None, typer.Option(help="Only this seller's.")] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Listing quantities per SKU and marketplace, as Amazon holds them."""
    _print_json(_admin(url, "GET", "/listings", seller_id=seller))


@app.command()
def invoices(
    seller: Annotated[str | None, typer.Option(help="Only this seller's.")] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Invoices uploaded with UPLOAD_VAT_INVOICE, accepted or rejected with the reason."""
    _print_json(_admin(url, "GET", "/invoices", seller_id=seller))


@app.command("expire-tokens")
def expire_tokens(url: Url = DEFAULT_URL) -> None:
    """Let every access token expire now, to test token refresh."""
    expired = _admin(url, "POST", "/tokens/expire")["expired"]
    _console.print(f"{expired} token(s) expired.")


@faults_app.command("add")
def add_fault(
    kind: Annotated[FaultKind, typer.Argument(help="What goes wrong.")],
    operation: Annotated[
        str, typer.Option(help="Operation, e.g. orders.searchOrders; * for all.")
    ] = "*",
    probability: Annotated[float, typer.Option(min=0.0, max=1.0)] = 1.0,
    count: Annotated[int | None, typer.Option(help="Hit at most this many requests.")] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Add a fault rule to the ones in force."""
    rules = _admin(url, "GET", "/faults")
    rules.append(
        {"operation": operation, "kind": kind.value, "probability": probability, "remaining": count}
    )
    _admin(url, "PUT", "/faults", rules)
    _console.print(f"{len(rules)} fault rule(s) in force.")


@faults_app.command("clear")
def clear_faults(url: Url = DEFAULT_URL) -> None:
    """Remove every fault rule."""
    _admin(url, "PUT", "/faults", [])
    _console.print("No faults any more.")


@faults_app.command("list")
def list_faults(url: Url = DEFAULT_URL) -> None:
    """Show the fault rules in force."""
    output = table(None, "Operation", "Kind", "Probability>", "Remaining>")
    for rule in _admin(url, "GET", "/faults"):
        remaining = "" if rule["remaining"] is None else str(rule["remaining"])
        output.add_row(rule["operation"], rule["kind"], f"{rule['probability']:g}", remaining)
    _console.print(output)


@app.command()
def requests(
    operation: Annotated[str | None, typer.Option(help="Only this operation.")] = None,
    last: Annotated[int, typer.Option(min=1)] = 30,
    url: Url = DEFAULT_URL,
) -> None:
    """The requests the sandbox received, newest last."""
    output = table(None, "At", "Operation", "Path", "Status>", "Fault")
    for entry in _admin(url, "GET", "/requests", operation=operation)[-last:]:
        output.add_row(
            entry["at"][11:19],
            entry["operation"] or "",
            entry["path"],
            str(entry["status"]),
            entry["fault"] or "",
        )
    _console.print(output)
