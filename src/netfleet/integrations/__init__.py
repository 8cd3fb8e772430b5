"""Integrations with the systems teams already run: NetBox/Nautobot inventories and
notification senders (webhooks, Slack, email). Imports core and platforms only."""
