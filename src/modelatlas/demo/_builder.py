"""Writes the demo organisation through the service layer, one planned step at a time.

Everything goes through :class:`~modelatlas.registry.Registry`'s normal write paths
(``create_asset``, ``register_version``, ``add_relation``), so the demo has the same
events, digests and validation as real data. The steps are planned up front, which gives
the progress bar its total; every figure comes from one ``random.Random(seed)`` consumed
in a fixed order, so a seed always yields the same organisation.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from modelatlas.demo import _catalog as cat
from modelatlas.demo._governance import (
    REVALIDATED_FEATURE,
    SHOWCASE,
    SHOWCASE_LIFECYCLE,
    Governance,
    deprecate,
    manifest_of,
)
from modelatlas.registry import (
    AssetCreate,
    InlineAsset,
    ModelSpec,
    Registry,
    RelationCreate,
    RequirementsIn,
    RunSpec,
    VersionRegistration,
)

VERSIONS_PER_MODEL = 3
EVALUATED_VERSIONS = (2, 3)
EPOCH = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)

Progress = Callable[[int, int], None]

_TEAMS = {team.namespace: team for team in cat.TEAMS}
_DATASETS = {d.ref: d for d in cat.DATASETS}
_FEATURES = {f.ref: f for f in cat.FEATURES}
_ENVIRONMENTS = {e.key: e for e in cat.ENVIRONMENTS}


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`seed` wrote."""

    seed: int
    namespaces: tuple[str, ...]
    assets: dict[str, int]  # created assets by kind
    relations: int

    @property
    def total_assets(self) -> int:
        return sum(self.assets.values())


def _fields(spec: str) -> list[tuple[str, str, bool]]:
    """``"a int!, b string"`` -> ``[("a", "int", False), ("b", "string", True)]``."""
    out = []
    for item in spec.split(", "):
        name, _, dtype = item.strip().partition(" ")
        out.append((name, dtype.rstrip("!"), not dtype.endswith("!")))
    return out


def _version_at(total: int, model_version: int) -> int:
    """The version of an input that was current when ``model_version`` was trained."""
    return max(1, min(total, total - VERSIONS_PER_MODEL + model_version))


def _split(ref: str) -> tuple[str, str]:
    namespace, _, name = ref.partition("/")
    return namespace, name


class _Seeder:
    def __init__(self, registry: Registry, rng: random.Random) -> None:
        self.registry = registry
        self.rng = rng
        self.assets: Counter[str] = Counter()
        self.relations = 0
        self.lifecycle: dict[str, tuple[str, ...]] = {}
        self.version_refs: dict[tuple[str, int], str] = {}
        self.version_metrics: dict[tuple[str, int], dict[str, float]] = {}

    # primitives -----------------------------------------------------------------------
    def _actor(self, namespace: str) -> str:
        return self.rng.choice(_TEAMS[namespace].people)

    def _hex(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def _create(self, ref: str, **fields: Any) -> None:
        namespace = ref.partition(":")[2].partition("/")[0]
        self.registry.create_asset(AssetCreate(ref=ref, **fields), actor=self._actor(namespace))
        self.assets[ref.partition(":")[0]] += 1

    def _link(self, source: str, relation: str, target: str, **properties: Any) -> None:
        namespace = source.partition(":")[2].partition("/")[0]
        self.registry.add_relation(
            RelationCreate(source=source, relation=relation, target=target,
                           properties=properties),
            actor=self._actor(namespace),
        )
        self.relations += 1

    # the plan ---------------------------------------------------------------------------
    def plan(self) -> list[Callable[[], None]]:
        steps: list[Callable[[], None]] = [partial(self.environment, e) for e in cat.ENVIRONMENTS]
        for dataset in cat.DATASETS:
            steps.append(partial(self.schema, dataset))
            steps += [partial(self.dataset_version, dataset, n)
                      for n in range(1, dataset.versions + 1)]
        for feature in cat.FEATURES:
            steps += [partial(self.feature_version, feature, n)
                      for n in range(1, feature.versions + 1)]
        for model in cat.MODELS:
            steps += [partial(self.model_version, model, n)
                      for n in range(1, VERSIONS_PER_MODEL + 1)]
        for model in cat.MODELS:
            steps += [partial(self.evaluation, model, n) for n in EVALUATED_VERSIONS]
            steps.append(partial(self.deployments, model))
        return [*steps, self.governance, self.deprecations, self.revalidation]

    # governance (demo/_governance.py) -----------------------------------------------------
    def _governance(self) -> Governance:
        # drawn last, so the key takes nothing from the figures drawn before it
        return Governance(self.registry, self.rng.randbytes(32))

    def governance(self) -> None:
        story = self._governance()
        story.stage_walk()
        story.policy_and_request()
        story.champion_and_attestation()

    def deprecations(self) -> None:
        """Each version the lifecycle left deprecated gets its plan, replaced by the next."""
        for model in cat.MODELS:
            lifecycle = self.lifecycle[model.ref]
            if "deprecated" in lifecycle:
                n = lifecycle.index("deprecated") + 1
                deprecate(self.registry, model.ref, n, n + 1,
                          actor=self._actor(_split(model.ref)[0]))

    def revalidation(self) -> None:
        """A new version of a feature the deployed fraud models require: they are marked
        for revalidation until an evaluation against it passes."""
        feature = _FEATURES[REVALIDATED_FEATURE]
        self.feature_version(feature, feature.versions + 1)

    # data -----------------------------------------------------------------------------
    def environment(self, env: cat.DemoEnvironment) -> None:
        self._create(
            f"environment:platform/{env.key}@{env.version}",
            description=f"Python {env.python} image for {env.key.split('-', 1)[1]} workloads.",
            owners=[_TEAMS["platform"].email],
            tags=["golden-image", env.accelerator],
            metadata={"python": env.python, "packages": list(env.packages), "image": env.image,
                      "accelerator": env.accelerator, "cuda": env.cuda,
                      "platform": "linux/amd64"},
        )

    def schema(self, dataset: cat.DemoDataset) -> None:
        namespace, name = _split(dataset.ref)
        fields = [{"name": n, "type": t, "nullable": nullable}
                  for n, t, nullable in _fields(dataset.fields)]
        self._create(
            f"schema:{dataset.ref}@1", description=f"Columns of {name}.",
            owners=[_TEAMS[namespace].email],
            metadata={"fields": fields, "format": "avro" if dataset.format == "jsonl"
                      else dataset.format},
        )

    def dataset_version(self, dataset: cat.DemoDataset, n: int) -> None:
        namespace, name = _split(dataset.ref)
        rows = int(dataset.rows * (1 + 0.09 * (n - 1)) * self.rng.uniform(0.97, 1.03))
        bucket = "gs://acme-lake" if namespace in ("search", "recsys") else "s3://acme-lake"
        ref = f"dataset:{dataset.ref}@{n}"
        self._create(
            ref,
            description=dataset.description,
            owners=[_TEAMS[namespace].email],
            tags=["pii"] if "user_id" in dataset.fields or "customer_id" in dataset.fields
            else [],
            metadata={
                "location": f"{bucket}/{namespace}/{name}/v{n}/",
                "format": dataset.format,
                "row_count": rows,
                "size_bytes": rows * self.rng.randint(60, 240),
                "digest": f"sha256:{self._hex(256)}",
                "partitioned_by": list(dataset.partitioned_by),
            },
            custom={"snapshot_date": (EPOCH + timedelta(days=35 * (n - 1))).date().isoformat()},
        )
        self._link(ref, "conforms_to", f"schema:{dataset.ref}@1")

    def feature_version(self, feature: cat.DemoFeature, n: int) -> None:
        namespace, name = _split(feature.ref)
        ref = f"feature:{feature.ref}@{n}"
        # the model version that first used feature version n, and the data it was built on
        trained = n + VERSIONS_PER_MODEL - feature.versions
        sources = [f"dataset:{s}@{_version_at(_DATASETS[s].versions, trained)}"
                   for s in feature.sources]
        self._create(
            ref,
            description=feature.description,
            owners=[_TEAMS[namespace].email],
            tags=["online"] if feature.online else ["offline"],
            metadata={
                "entities": list(feature.entities),
                "features": [{"name": f, "dtype": t} for f, t, _ in _fields(feature.features)],
                "source": sources[0],
                "transformation": f"dbt model features.{namespace}__{name.replace('-', '_')}",
                "online": feature.online,
                "ttl_seconds": feature.ttl_seconds,
            },
        )
        for source in sources:
            self._link(ref, "derived_from", source)

    # models -----------------------------------------------------------------------------
    def _metrics(self, model: cat.DemoModel, n: int, *, noise: float = 0.01) -> dict[str, float]:
        metrics = {}
        for metric, base, step in cat.TASK_METRICS[model.task]:
            value = (base + step * (n - 1)) * self.rng.uniform(1 - noise, 1 + noise)
            metrics[metric] = round(value, 4 if abs(base) < 10 else 1)
        return metrics

    def _parameters(self, model: cat.DemoModel) -> dict[str, str | int | float | bool | None]:
        params: dict[str, str | int | float | bool | None] = {}
        for key, (low, high) in cat.FRAMEWORKS[model.framework][2].items():
            is_int = float(low).is_integer() and float(high).is_integer() and high > 1
            params[key] = self.rng.randint(int(low), int(high)) if is_int \
                else round(self.rng.uniform(low, high), 4)
        if model.framework == "transformers":
            params["base_model"] = "sentence-transformers/all-MiniLM-L12-v2" \
                if model.task in ("ranking", "multiclass-classification") \
                else "meta-llama/Meta-Llama-3-8B-Instruct"
        params["objective"] = model.task
        return params

    def _lifecycle(self, model: cat.DemoModel) -> tuple[str, ...]:
        # Most teams run v2 in production with v3 in staging; some have promoted v3.
        promoted_v3 = self.rng.random() < 0.3
        if model.ref == SHOWCASE:  # its stages are walked in demo/_governance.py
            return SHOWCASE_LIFECYCLE
        if promoted_v3:
            return ("archived", "deprecated", "production")
        return ("archived", "production", "staging")

    def _run(self, model: cat.DemoModel, n: int, metrics: dict[str, float]) -> RunSpec:
        namespace, name = _split(model.ref)
        started = EPOCH + timedelta(days=50 * n + self.rng.randint(0, 20),
                                    hours=self.rng.randint(0, 12))
        gpu = model.framework in ("pytorch", "transformers")
        duration = timedelta(minutes=self.rng.randint(90, 900) if gpu else self.rng.randint(8, 120))
        seeds = {"python": self.rng.randint(1, 9999), "numpy": self.rng.randint(1, 9999)}
        if gpu:
            seeds["torch"] = self.rng.randint(1, 9999)
        return RunSpec(
            name=f"{name}-train-{started:%Y%m%d}-{self._hex(16)}",
            description=f"Training run for {model.ref} v{n}.",
            tags=["scheduled" if n > 1 else "manual"],
            metadata={
                "run_type": "fine-tuning" if model.fine_tuned_from else "training",
                "parameters": self._parameters(model), "seeds": seeds,
                "started_at": started.isoformat(), "ended_at": (started + duration).isoformat(),
                "status": "completed", "user": self._actor(namespace),
                "metrics": {f"val_{k}": v for k, v in metrics.items()},
            },
        )

    def _version_metadata(self, model: cat.DemoModel, n: int,
                          metrics: dict[str, float]) -> dict[str, Any]:
        namespace, name = _split(model.ref)
        framework_version = cat.FRAMEWORKS[model.framework][1]
        suffix = {"xgboost": "ubj", "lightgbm": "txt", "catboost": "cbm", "prophet": "json",
                  "scikit-learn": "joblib"}.get(model.framework, "safetensors")
        return {
            "framework": model.framework, "framework_version": framework_version,
            "task": model.task, "metrics": metrics,
            "artifacts": [{"uri": f"s3://acme-models/{namespace}/{name}/{n}/model.{suffix}",
                           "sha256": self._hex(256),
                           "size": self.rng.randint(2_000_000, 900_000_000), "name": "model"}],
            "signature": {"inputs": [f for ft in model.features for f, _, _ in
                                     _fields(_FEATURES[ft].features)][:12],
                          "outputs": ["score"] if model.task != "text-generation" else ["text"]},
            "release_notes": "Initial version." if n == 1 else
            f"Retrained on fresher data; primary metric {next(iter(metrics))} "
            f"{metrics[next(iter(metrics))]}.",
        }

    def _derived_from(self, model: cat.DemoModel, n: int) -> list[str]:
        if model.fine_tuned_from:
            parent = model.fine_tuned_from
            return [self.version_refs[(parent, min(VERSIONS_PER_MODEL, n + 1))]]
        if model.framework in ("pytorch", "transformers") and n > 1:
            return [self.version_refs[(model.ref, n - 1)]]  # warm-started from the last one
        return []

    def model_version(self, model: cat.DemoModel, n: int) -> None:
        namespace, name = _split(model.ref)
        team = _TEAMS[namespace]
        if n == 1:
            self.lifecycle[model.ref] = self._lifecycle(model)
        metrics = self._metrics(model, n)
        commit = self._hex(160)
        env = _ENVIRONMENTS[cat.FRAMEWORKS[model.framework][0]]
        metadata = self._version_metadata(model, n, metrics)
        registration = VersionRegistration(
            description=f"{model.description} Version {n}.",
            owners=[team.email],
            tags=list(model.tags[:1]),
            metadata=metadata,
            manifest=manifest_of(name, metadata["artifacts"]),
            # the showcase starts unstaged: demo/_governance.py walks it through its stages
            state="registered" if model.ref == SHOWCASE else self.lifecycle[model.ref][n - 1],
            model=ModelSpec(
                description=model.description, owners=[team.email], tags=list(model.tags),
                metadata={"task": model.task, "framework": model.framework,
                          "license": "proprietary",
                          "card": f"# {name}\n\n{model.description}\n\nOwned by {team.title}."},
            ) if n == 1 else None,
            run=self._run(model, n, metrics),
            datasets=[f"dataset:{d}@{_version_at(_DATASETS[d].versions, n)}"
                      for d in model.datasets],
            features=[f"feature:{f}@{_version_at(_FEATURES[f].versions, n)}"
                      for f in model.features],
            code=InlineAsset(
                ref=f"code:{namespace}/{name}@{commit[:12]}",
                metadata={"repository": f"https://{team.repository}", "commit": commit,
                          "path": f"models/{name.replace('-', '_')}/train.py", "branch": "main"},
            ),
            environment=f"environment:platform/{env.key}@{env.version}",
            derived_from=self._derived_from(model, n),
            requirements=self._requirements(env, n),
        )
        result = self.registry.register_version(namespace, name, registration,
                                                 actor=self._actor(namespace))
        self.version_refs[(model.ref, n)] = result.model_version.ref
        self.version_metrics[(model.ref, n)] = metrics
        for ref in [*result.created, result.model_version.ref]:
            self.assets[ref.partition(":")[0]] += 1
        self.relations += len(result.relations)

    # evaluations and deployments ------------------------------------------------------
    @staticmethod
    def _requirements(env: cat.DemoEnvironment, n: int) -> RequirementsIn:
        """What the version's requirements.txt says: its environment's packages with
        compatible-release bounds; versions 1 and 2 were written before numpy 2 and cap
        it (so ``modelatlas deps impact`` of numpy 2 has something to say)."""
        lines = [f"# {env.key}: generated by the training pipeline"]
        for pin in env.packages:
            name, _, version = pin.partition("==")
            if not version:
                lines.append(pin)
            elif name == "numpy":
                lines.append("numpy>=1.24,<2" if n <= 2 else "numpy>=1.24")
            else:
                lines.append(f"{name}>={version.split('.')[0]}")
        return RequirementsIn(
            python=f">={env.python}",
            packages=[{"requirement": line, "file": "requirements.txt", "line": number}
                      for number, line in enumerate(lines, start=1) if not line.startswith("#")],
        )

    def _slices(self, model: cat.DemoModel, metrics: dict[str, float]) -> list[dict[str, Any]]:
        team = _TEAMS[_split(model.ref)[0]]
        primary = next(iter(metrics))
        return [
            {"name": s, "rows": self.rng.randint(5_000, 400_000),
             "metrics": {primary: round(metrics[primary] * self.rng.uniform(0.9, 1.05), 4)}}
            for s in self.rng.sample(team.slices, k=min(3, len(team.slices)))
        ]

    def _fairness(self, model: cat.DemoModel) -> list[dict[str, Any]]:
        if not model.fairness:
            return []
        checks = []
        for check, metric, attribute in (
            ("demographic_parity", "demographic_parity_difference", "age_band"),
            ("equal_opportunity", "equal_opportunity_difference", "gender"),
        ):
            value = round(self.rng.uniform(0.01, 0.12), 4)
            checks.append({"check": check, "metric": metric, "value": value, "threshold": 0.1,
                           "groups": list(cat.FAIRNESS_GROUPS[attribute]),
                           "passed": value <= 0.1})
        return checks

    def _drift(self, model: cat.DemoModel) -> list[dict[str, Any]]:
        names = [f for ft in model.features for f, _, _ in _fields(_FEATURES[ft].features)]
        out = []
        for feature in self.rng.sample(names, k=min(3, len(names))):
            statistic = round(self.rng.uniform(0.01, 0.3), 4)
            out.append({"feature": feature, "method": "psi", "statistic": statistic,
                        "threshold": 0.2, "drifted": statistic > 0.2})
        return out

    def evaluation(self, model: cat.DemoModel, n: int) -> None:
        namespace, name = _split(model.ref)
        version_ref = self.version_refs[(model.ref, n)]
        metrics = {k: round(v * self.rng.uniform(0.97, 1.01), 4)
                   for k, v in self.version_metrics[(model.ref, n)].items()}
        fairness = self._fairness(model)
        holdout = model.datasets[0]
        dataset_ref = f"dataset:{holdout}@{_DATASETS[holdout].versions}"
        ref = f"evaluation:{namespace}/{name}-v{version_ref.rpartition('@')[2]}-holdout"
        self._create(
            ref,
            description=f"Offline evaluation of {version_ref} on the latest holdout.",
            owners=[_TEAMS[namespace].email],
            tags=["holdout", "fairness"] if fairness else ["holdout"],
            metadata={"metrics": metrics, "data_slice": "holdout-2024Q3",
                      "slices": self._slices(model, metrics), "fairness": fairness,
                      "drift": self._drift(model),
                      "passed": all(c["passed"] for c in fairness)},
        )
        self._link(ref, "evaluated", version_ref)
        self._link(ref, "evaluated_on", dataset_ref, split="holdout")

    def _deploy(self, model: cat.DemoModel, suffix: str, n: int, *, state: str,
                environment: str, traffic: float) -> None:
        namespace, name = _split(model.ref)
        kind = next((t for t in model.tags if t in cat.DEPLOY_TARGETS), "realtime")
        region = self.rng.choice(cat.REGIONS)
        endpoint = None if kind == "batch" else \
            f"https://ml-{environment}.{cat.ORG_DOMAIN}/{namespace}/{name}/{suffix}:predict"
        ref = f"deployment:{namespace}/{name}-{suffix}"
        self._create(
            ref,
            description=f"{model.ref} served in {environment} ({region}).",
            owners=[_TEAMS[namespace].email],
            tags=[environment, region],
            state=state,
            metadata={"target": cat.DEPLOY_TARGETS[kind], "endpoint": endpoint,
                      "environment": environment, "replicas": self.rng.randint(2, 12)
                      if environment == "prod" else 1, "traffic_percent": traffic},
        )
        self._link(ref, "serves", self.version_refs[(model.ref, n)], traffic_percent=traffic)

    def deployments(self, model: cat.DemoModel) -> None:
        lifecycle = self.lifecycle[model.ref]
        production = lifecycle.index("production") + 1
        canary = self.rng.random() < 0.25 and production < VERSIONS_PER_MODEL
        self._deploy(model, "prod", production, state="active", environment="prod",
                     traffic=90.0 if canary else 100.0)
        if canary:
            self._deploy(model, "canary", production + 1, state="active", environment="prod",
                         traffic=10.0)
        elif "staging" in lifecycle:
            state = "failed" if self.rng.random() < 0.1 else "active"
            self._deploy(model, "staging", lifecycle.index("staging") + 1, state=state,
                         environment="staging", traffic=100.0)
        if self.rng.random() < 0.35:
            self._deploy(model, "legacy", 1, state="retired", environment="prod", traffic=0.0)


def seed(
    registry: Registry, *, seed: int = 7, progress: Progress | None = None
) -> DemoSummary:
    """Write the demo organisation into ``registry`` (which must not hold it already)."""
    seeder = _Seeder(registry, random.Random(seed))
    steps = seeder.plan()
    for done, step in enumerate(steps, start=1):
        step()
        if progress is not None:
            progress(done, len(steps))
    # a signed head over the whole demo, so its audit trails show verified proofs
    registry.audit_checkpoint()
    return DemoSummary(
        seed=seed,
        namespaces=tuple(sorted({t.namespace for t in cat.TEAMS})),
        assets=dict(sorted(seeder.assets.items())),
        relations=seeder.relations,
    )


def is_empty(registry: Registry) -> bool:
    """True when the registry holds no assets at all."""
    return not registry.list_assets(limit=1).items
