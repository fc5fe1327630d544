"""The CI/CD policy check of a model version, mixed into :class:`Registry`.

One answer from four checks the registry already knows how to make, each through the
service operation that owns it (so the caller's read rights apply as they do there):

- ``dependencies``: the dependency check (:meth:`DepsService.check`) against
  ``environment``, else the namespace promotion policy's ``deps_target``; skipped when
  neither names one;
- ``lineage``: the provenance report's gaps: no run produced the version, or its run
  used no dataset or feature (:mod:`modelatlas.lineage.report`);
- ``signature``: a verified attestation of the artifact (:meth:`attestations`);
- ``revalidation``: no open revalidation mark (a dependency changed since it was
  validated).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelatlas.errors import InvalidInput, ModelAtlasError
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.reconcile_types import PolicyCheckItem, PolicyCheckResult

if TYPE_CHECKING:
    from modelatlas.registry.attestation_types import AttestationList
    from modelatlas.registry.deps_types import CheckResult
    from modelatlas.registry.impact_types import RevalidationMark
    from modelatlas.registry.lifecycle_types import PromotionPolicyOut
    from modelatlas.registry.types import Page

_LINEAGE_GAPS = ("run", "data")
_SHOWN = 3  # violations or gaps named in a detail line


class PolicyCheckService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def check(self, ref: str | Ref, target: str | Ref | None = None, *,
                  environment: Any = None,
                  principal: Principal | None = None) -> CheckResult: ...

        def provenance_report(self, ref: str | Ref, *,
                              principal: Principal | None = None) -> Any: ...

        def attestations(self, ref: str | Ref, *,
                         principal: Principal | None = None) -> AttestationList: ...

        def revalidation_marks(self, ref: str | Ref | None = None, *,
                               cursor: str | None = None, limit: int = 100,
                               principal: Principal | None = None
                               ) -> Page[RevalidationMark]: ...

        def promotion_policy(self, namespace: str, *,
                             principal: Principal | None = None) -> PromotionPolicyOut: ...

    def policy_check(self, ref: str | Ref, *, environment: str | None = None,
                     principal: Principal | None = None) -> PolicyCheckResult:
        """Run the pipeline checks on model version ``ref`` (module doc). An unknown or
        unreadable version is a 404, a bad ``environment`` a 422, like the checks'
        own operations; a failed check is an answer, not an error."""
        parsed = Ref.coerce(ref, path="/ref")
        if parsed.kind != "model_version" or not parsed.version:
            raise InvalidInput.at("/ref", "a model version: model_version:NAMESPACE/NAME@N")
        report = self.provenance_report(parsed, principal=principal)  # 404 first
        checks = [
            self._deps_check(parsed, environment, principal),
            _lineage_check(report),
            _signature_check(self.attestations(parsed, principal=principal)),
            _revalidation_check(self.revalidation_marks(parsed, limit=_SHOWN + 1,
                                                        principal=principal).items),
        ]
        return PolicyCheckResult(ref=str(parsed), checks=checks,
                                 passed=not any(c.status == "fail" for c in checks))

    def _deps_check(self, ref: Ref, environment: str | None,
                    principal: Principal | None) -> PolicyCheckItem:
        target = environment
        if target is None:
            try:
                target = self.promotion_policy(ref.namespace, principal=principal).deps_target
            except ModelAtlasError:
                target = None  # no right to read the policy: as if it named none
        if target is None:
            return PolicyCheckItem(name="dependencies", status="skip",
                                   detail="no target environment: pass --environment or set "
                                          "the namespace promotion policy's deps_target")
        result = self.check(ref, target, principal=principal)
        if result.compatible:
            return PolicyCheckItem(name="dependencies", status="pass",
                                   detail=f"runs on {result.target}")
        shown = "; ".join(v.message for v in result.violations[:_SHOWN])
        more = len(result.violations) - _SHOWN
        return PolicyCheckItem(name="dependencies", status="fail",
                               detail=f"{len(result.violations)} violation(s) on "
                                      f"{result.target}: {shown}"
                                      + (f" (+{more} more)" if more > 0 else ""))


def _lineage_check(report: Any) -> PolicyCheckItem:
    gaps = [g for g in report.missing if g.area == "lineage" and g.step in _LINEAGE_GAPS]
    if gaps:
        return PolicyCheckItem(name="lineage", status="fail",
                               detail="; ".join(g.message for g in gaps[:_SHOWN]))
    data = len(report.raw_data) + len(report.features)
    return PolicyCheckItem(name="lineage", status="pass",
                           detail=f"produced by {', '.join(r.ref for r in report.runs)}, "
                                  f"{data} data input(s); completeness "
                                  f"{report.completeness:.0%}")


def _signature_check(listed: AttestationList) -> PolicyCheckItem:
    if listed.status == "verified":
        return PolicyCheckItem(name="signature", status="pass",
                               detail=f"verified attestation of {listed.artifact_digest}")
    if listed.status == "key_revoked":
        return PolicyCheckItem(name="signature", status="fail",
                               detail="every key that signed its attestations was revoked")
    why = ("no artifact digest to sign (register it with --artifact)"
           if listed.artifact_digest is None else "no attestation: modelatlas attest REF")
    return PolicyCheckItem(name="signature", status="fail", detail=f"unsigned: {why}")


def _revalidation_check(marks: list[RevalidationMark]) -> PolicyCheckItem:
    if not marks:
        return PolicyCheckItem(name="revalidation", status="pass",
                               detail="no open revalidation mark")
    causes = ", ".join(m.cause for m in marks[:_SHOWN])
    return PolicyCheckItem(name="revalidation", status="fail",
                           detail=f"needs revalidation: a dependency changed ({causes})")
