"""An offline SP-API that behaves like Amazon's, for tests, benchmarks and the demo.

It imports nothing else from sellerbridge, so it can be split out and used on its own:

    from sellerbridge.sandbox import SandboxConfig, create_app
    app = create_app(SandboxConfig(seed=7, orders=100, time_scale=600))  # any ASGI server

See ``docs/sandbox.md`` for the operations, the admin API and the fault kinds.
"""

from sellerbridge.sandbox.app import build_sandbox, create_app
from sellerbridge.sandbox.config import SandboxConfig

__all__ = ["SandboxConfig", "build_sandbox", "create_app"]
