"""The REST API (``/api/v1``), served by ``uvicorn --factory modelatlas.api:create_app``."""

from modelatlas.api.app import create_app

__all__ = ["create_app"]
