"""Core: errors, settings, models, logging. Imports nothing from the rest of netfleet."""
