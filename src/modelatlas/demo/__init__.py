"""A believable demo organisation ("Acme"): teams, data, features, models, evaluations and
deployments, written through the service layer so it looks exactly like real use."""

from modelatlas.demo._builder import DemoSummary, is_empty, seed

__all__ = ["DemoSummary", "is_empty", "seed"]
