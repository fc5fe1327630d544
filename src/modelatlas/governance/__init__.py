"""Governance: who the caller is (principals, tokens, OIDC), what they may do (roles),
and the rules around lifecycle changes. Logic and the SQL it needs; no HTTP."""

from modelatlas.governance.principal import Principal, PrincipalKind

__all__ = ["Principal", "PrincipalKind"]
