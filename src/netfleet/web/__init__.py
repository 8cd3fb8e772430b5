"""The web dashboard: server-rendered pages over the store, live job updates by SSE.

``mount_dashboard(app, store, settings)`` adds it under ``/ui`` to the service app.
"""

from netfleet.web.mount import mount_dashboard

__all__ = ["mount_dashboard"]
