"""The Amazon connector (SP-API): adapter, importers, mappers, exporters and bindings.

Empty until the connector lands; ``docs/architecture.md`` says what goes where.
"""
