"""The ``netfleet`` command line."""
