"""Requests per second the sandbox serves for ``getOrder`` on loopback.

Starts ``sellerbridge sandbox serve`` in a process of its own (so client and server do not
share an interpreter), lifts the getOrder usage plan out of the way, and has several clients
with keep-alive connections fetch random orders for a while. Prints throughput and latency.

    .venv/bin/python bench/sandbox_throughput.py [--seconds 10] [--clients 4] [--orders 500]
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import subprocess
import sys
import threading
import time

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def start(port: int, orders: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "sellerbridge", "sandbox", "serve", "--port", str(port),
         "--orders", str(orders), "--seed", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sandbox/sellers", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the sandbox did not start within 60 s")


def connect(base: str) -> tuple[str, list[str]]:
    """An access token of the default seller, with getOrder's plan lifted; the order ids."""
    seller = httpx.get(f"{base}/_sandbox/sellers").json()[0]
    token: str = httpx.post(
        f"{base}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": seller["refresh_token"],
            "client_id": seller["client_id"],
            "client_secret": seller["client_secret"],
        },
    ).json()["access_token"]
    httpx.put(
        f"{base}/_sandbox/usage-plans/orders.getOrder", json={"rate": 1e9, "burst": 10**9}
    ).raise_for_status()
    return token, [order["order_id"] for order in httpx.get(f"{base}/_sandbox/orders").json()]


def hammer(
    base: str, token: str, order_ids: list[str], clients: int, seconds: float
) -> tuple[list[float], int, float]:
    """Latencies of every getOrder the clients made, the number not answered 200, the time."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        nonlocal failures
        pick = random.Random(seed)
        mine: list[float] = []
        errors = 0
        with httpx.Client(base_url=base, headers={"x-amz-access-token": token}) as http:
            while time.monotonic() < stop:
                began = time.perf_counter()
                response = http.get(f"/orders/2026-01-01/orders/{pick.choice(order_ids)}")
                mine.append(time.perf_counter() - began)
                errors += response.status_code != 200
        with lock:
            latencies.extend(mine)
            failures += errors

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        time.sleep(1)
        print(f"  {min(time.monotonic() - began, seconds):4.0f} s ...", flush=True)
    return latencies, failures, time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--orders", type=int, default=500)
    options = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"Starting the sandbox on {base} with {options.orders} orders ...", flush=True)
    server = start(port, options.orders)
    try:
        token, order_ids = connect(base)
        latencies, failures, elapsed = hammer(
            base, token, order_ids, options.clients, options.seconds
        )
    finally:
        server.terminate()
        server.wait()

    ms = sorted(value * 1000 for value in latencies)
    print(f"getOrder over loopback, {options.clients} clients, {elapsed:.1f} s")
    print(f"  requests        {len(ms)} ({failures} not 200)")
    print(f"  throughput      {len(ms) / elapsed:,.0f} requests/s")
    print(f"  latency p50     {statistics.median(ms):.2f} ms")
    print(f"  latency p95     {ms[int(len(ms) * 0.95)]:.2f} ms")
    print(f"  latency p99     {ms[int(len(ms) * 0.99)]:.2f} ms")


if __name__ == "__main__":
    main()
