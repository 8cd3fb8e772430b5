"""Device-free logic for configuration texts: normalisation, sanity checks, diffs,
hierarchical models and predicted changes, templates, compression and git export.

Imports only ``netfleet.core`` and ``netfleet.platforms``; the store, API and CLI build
backups and safe changes on it.
"""
