"""Typed views of the SP-API responses sellerbridge reads.

They name only the fields sellerbridge uses and ignore the rest, so that Amazon adding a field
never breaks an import; ``tests/unit/test_spapi_models.py`` checks every field named here
against Amazon's official model.
"""
