"""An offline SP-API that behaves like Amazon's, for tests, benchmarks and the demo.

It imports nothing else from sellerbridge, so it can be split out and used on its own.
Empty until the sandbox lands.
"""
