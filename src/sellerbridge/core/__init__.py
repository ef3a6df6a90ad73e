"""The ERP rules: articles, stock, customers, orders, money and tax.

Nothing in this package does I/O or imports the database, HTTP or a framework, so every rule
can be tested in microseconds and read without knowing how it is stored.
"""
