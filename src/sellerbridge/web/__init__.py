"""The web app (FastAPI + Jinja2 + htmx): the merchant's screens and the health endpoint.
Empty until the first screen lands."""
