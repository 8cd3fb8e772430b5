"""The store's SQL: one module per table family, each a set of plain functions
``f(conn, ...)`` that run inside a transaction the caller opened on ``conn``.

Nothing here opens a transaction, reads a clock or knows a façade: the caller
(``netfleet.store.facades``) passes ``now`` and whatever else a function needs.
"""
