"""The REST service: FastAPI app, auth, problem+json errors, metrics, event streams."""

from netfleet.api.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
