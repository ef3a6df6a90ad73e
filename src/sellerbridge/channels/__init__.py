"""Sales channels outside the ERP: one package per channel, each with the same roles
(adapter, importers, mappers, exporters, bindings). See ``docs/architecture.md``."""
