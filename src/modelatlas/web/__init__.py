"""The web UI: server-rendered pages (Jinja2) over the service layer, with htmx for small
updates and Cytoscape.js for the lineage graph, served by ``modelatlas serve`` at ``/``.

The pages call the same :class:`~modelatlas.registry.Registry` methods as the API, as the
signed-in person (web/_session.py); the browser code is third-party, installed from the npm
registry into ``static/vendor`` by ``make web-assets`` (package.json), never committed.
"""

from modelatlas.web._app import install

__all__ = ["install"]
