"""Integrations with other tools' formats: Hugging Face model cards in and out, and
deployment manifests (KServe, Seldon) read into deployments. Pure parsing and mapping; the
service layer (``registry/_integrations.py``) writes what they describe."""

from modelatlas.integrations.manifests import (
    DeployedModel,
    Manifests,
    Skipped,
    k8s_namespace,
    normalise_uri,
    parse_manifests,
)
from modelatlas.integrations.modelcards import (
    EvalResult,
    ModelCard,
    front_matter,
    parse_card,
    render_card,
)

__all__ = [
    "DeployedModel",
    "EvalResult",
    "Manifests",
    "ModelCard",
    "Skipped",
    "front_matter",
    "k8s_namespace",
    "normalise_uri",
    "parse_card",
    "parse_manifests",
    "render_card",
]
