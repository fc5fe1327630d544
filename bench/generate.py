"""A synthetic organisation for benchmarks: teams, their data, features, code, environments,
and models trained, evaluated and deployed over them.

The shape is set by one number, the count of model versions (1k, 100k, 1M); everything else
is proportional to it (about 2.9 assets and 7.5 relations per model version). Dataset use is
Zipf-skewed, as in real organisations: a few core tables feed thousands of models while most
datasets feed one or two. The output is a stream of :class:`AssetCreate` and
:class:`RelationCreate` records, each asset before any relation that names it, generated on
the fly from the seed: memory stays flat at any scale, and one seed always gives the same
organisation.

    python bench/generate.py --versions 1000 --seed 7 | head      # JSON lines
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import itertools
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from modelatlas.registry.types import AssetCreate, RelationCreate

Record = AssetCreate | RelationCreate

TEAMS = (
    "fraud", "payments", "risk", "credit", "search", "ads-ranking", "recommendations",
    "pricing", "growth", "marketing", "supply-chain", "logistics", "forecasting", "support",
    "trust-safety", "identity", "insurance", "claims", "underwriting", "healthcare",
    "vision", "speech", "nlp", "maps", "routing", "catalog", "merchandising", "inventory",
    "finance", "treasury", "compliance", "security", "platform", "data-eng", "mobile",
    "notifications", "churn", "loyalty", "crm", "hr-analytics",
)
DATA_NOUNS = (
    "transactions", "card-authorisations", "chargebacks", "clickstream", "page-views",
    "search-queries", "user-profiles", "merchant-profiles", "orders", "shipments", "returns",
    "product-catalog", "prices", "inventory-snapshots", "support-tickets", "call-transcripts",
    "app-events", "sessions", "ad-impressions", "ad-clicks", "conversions", "devices",
    "logins", "kyc-documents", "loan-applications", "repayments", "claims", "policies",
    "images", "reviews", "ratings", "geo-pings", "deliveries", "weather", "holidays",
)
QUALIFIERS = ("daily", "hourly", "eu", "us", "apac", "raw", "curated", "sampled", "gold", "v2")
MODEL_NOUNS = (
    "fraud-score", "churn", "ltv", "propensity", "ranker", "retriever", "reranker",
    "ctr", "cvr", "demand-forecast", "eta", "price-elasticity", "anomaly", "intent",
    "sentiment", "toxicity", "ocr", "embedder", "classifier", "segmenter", "matcher",
    "dedup", "credit-limit", "default-risk", "next-best-action", "uplift", "cold-start",
)
MODEL_FLAVOURS = ("gbm", "dnn", "xgb", "bert", "two-tower", "lgbm", "cnn", "lr", "tft", "vit")
FRAMEWORKS = (("xgboost", "2.1.1"), ("lightgbm", "4.5.0"), ("pytorch", "2.4.1"),
              ("scikit-learn", "1.5.2"), ("tensorflow", "2.17.0"), ("jax", "0.4.33"))
TASKS = ("binary-classification", "ranking", "regression", "forecasting",
         "multiclass-classification", "embedding")
FEATURE_NOUNS = ("txn-aggregates", "user-activity", "merchant-risk", "device-fingerprint",
                 "session-stats", "price-history", "geo-velocity", "basket-features",
                 "text-embeddings", "click-rates")
PEOPLE = ("ana", "bruno", "chen", "dara", "emeka", "fatima", "giulia", "hiro", "ines",
          "jonas", "kemi", "lars", "maya", "nikhil", "olga", "priya", "quentin", "rosa",
          "sven", "tariq", "uma", "vera", "wei", "ximena", "yusuf", "zoe")
PYTHONS = ("3.10", "3.11", "3.12")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
ZIPF_S = 1.1


def _asset(**fields: object) -> AssetCreate:
    """Records built without re-validating fields the generator fills correctly by
    construction: bulk_load validates refs, labels, states and metadata itself."""
    defaults: dict[str, object] = {"description": "", "owners": [], "tags": [], "metadata": {},
                                   "custom": {}, "state": None, "digests": {}}
    return AssetCreate.model_construct(**{**defaults, **fields})


def _relation(**fields: object) -> RelationCreate:
    return RelationCreate.model_construct(**{"properties": {}, **fields})


@dataclass(frozen=True)
class Shape:
    """How many of each thing an organisation of ``versions`` model versions holds."""

    versions: int
    namespaces: int
    dataset_series: int
    feature_series: int
    environment_series: int

    @classmethod
    def for_versions(cls, versions: int) -> Shape:
        if versions < 1:
            raise ValueError("an organisation needs at least one model version")
        return cls(
            versions=versions,
            namespaces=min(len(TEAMS), max(3, versions // 2500)),
            dataset_series=max(8, versions // 40),
            feature_series=max(4, versions // 60),
            environment_series=max(3, versions // 1000),
        )


def _mix(seed: int, *parts: object) -> int:
    """A stable 64-bit hash (Python's ``hash`` of str is salted per process)."""
    text = ":".join(str(p) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _pick(words: tuple[str, ...], i: int) -> str:
    return words[i % len(words)]


def _unique_name(nouns: tuple[str, ...], quals: tuple[str, ...], i: int) -> str:
    """The i-th name of a pool: noun-qualifier, with a counter only once the words run out."""
    base = f"{_pick(nouns, i)}-{_pick(quals, i // len(nouns))}"
    rounds = i // (len(nouns) * len(quals))
    return f"{base}-{rounds + 1}" if rounds else base


class Organisation:
    """The refs of every shared asset are pure functions of an index and the seed, so models
    can name a dataset without the generator keeping a list of them."""

    def __init__(self, versions: int, *, seed: int = 7) -> None:
        self.shape = Shape.for_versions(versions)
        self.seed = seed
        self.teams = TEAMS[: self.shape.namespaces]
        weights = itertools.accumulate(
            1.0 / (rank + 1) ** ZIPF_S for rank in range(self.shape.dataset_series)
        )
        self._dataset_cdf = list(weights)  # one float per dataset series: 200 KB at 1M

    # shared assets ------------------------------------------------------------------------
    def team_of(self, kind: str, i: int) -> str:
        return self.teams[_mix(self.seed, kind, i) % len(self.teams)]

    def dataset_versions(self, i: int) -> int:
        return 1 + _mix(self.seed, "dataset-versions", i) % 4

    def dataset_ref(self, i: int, version: int | None = None) -> str:
        name = _unique_name(DATA_NOUNS, QUALIFIERS, i)
        v = self.dataset_versions(i) if version is None else version
        return f"dataset:{self.team_of('dataset', i)}/{name}@{v}"

    def schema_ref(self, i: int) -> str:
        name = _unique_name(DATA_NOUNS, QUALIFIERS, i)
        return f"schema:{self.team_of('dataset', i)}/{name}@1"

    def feature_versions(self, i: int) -> int:
        return 1 + _mix(self.seed, "feature-versions", i) % 2

    def feature_ref(self, i: int) -> str:
        name = _unique_name(FEATURE_NOUNS, QUALIFIERS, i)
        return f"feature:{self.team_of('feature', i)}/{name}@{self.feature_versions(i)}"

    def environment_ref(self, i: int) -> str:
        python = _pick(PYTHONS, i)
        framework, _ = _pick(FRAMEWORKS, i // len(PYTHONS))
        rounds = i // (len(PYTHONS) * len(FRAMEWORKS))
        name = f"py{python.replace('.', '')}-{framework}" + (f"-{rounds + 1}" if rounds else "")
        return f"environment:{self.team_of('environment', i)}/{name}@1"

    def popular_dataset(self, rng: random.Random) -> int:
        """A dataset series index, Zipf-distributed: index 0 is the most used."""
        x = rng.random() * self._dataset_cdf[-1]
        return min(bisect.bisect_left(self._dataset_cdf, x), len(self._dataset_cdf) - 1)

    def shared_assets(self) -> Iterator[Record]:
        yield from self._environments()
        for i in range(self.shape.dataset_series):
            yield from self._dataset_series(i)
        for i in range(self.shape.feature_series):
            yield from self._feature(i)

    def _environments(self) -> Iterator[Record]:
        for i in range(self.shape.environment_series):
            python = _pick(PYTHONS, i)
            framework, version = _pick(FRAMEWORKS, i // len(PYTHONS))
            yield _asset(
                ref=self.environment_ref(i),
                description=f"Python {python} with {framework} {version}",
                owners=["platform-team"],
                metadata={
                    "python": python, "packages": [f"{framework}=={version}", "numpy>=1.26"],
                    "image": f"registry.internal/ml/{framework}:{version}-py{python}",
                    "accelerator": "gpu" if framework in ("pytorch", "jax") else "cpu",
                },
            )

    def _dataset_series(self, i: int) -> Iterator[Record]:
        team = self.team_of("dataset", i)
        noun = _pick(DATA_NOUNS, i)
        schema = self.schema_ref(i)
        yield _asset(
            ref=schema, description=f"Columns of {noun}", owners=[f"{team}-data"],
            metadata={"format": "parquet", "fields": [
                {"name": "id", "type": "string", "nullable": False},
                {"name": "event_time", "type": "timestamp"},
                {"name": "amount", "type": "double"},
            ]},
        )
        for v in range(1, self.dataset_versions(i) + 1):
            ref = self.dataset_ref(i, v)
            digest = hashlib.sha256(ref.encode()).hexdigest()
            yield _asset(
                ref=ref, description=f"{noun.replace('-', ' ').capitalize()} ({team})",
                owners=[f"{team}-data"], tags=["pii"] if i % 7 == 0 else [],
                metadata={
                    "location": f"s3://{team}-lake/{noun}/v{v}/", "format": "parquet",
                    "row_count": 10_000 * (1 + _mix(self.seed, "rows", i, v) % 50_000),
                    "digest": f"sha256:{digest}", "partitioned_by": ["event_date"],
                },
            )
            yield _relation(source=ref, relation="conforms_to", target=schema)

    def _feature(self, i: int) -> Iterator[Record]:
        rng = random.Random(_mix(self.seed, "feature", i))
        noun = _pick(FEATURE_NOUNS, i)
        source = self.dataset_ref(self.popular_dataset(rng))
        ref = self.feature_ref(i)
        yield _asset(
            ref=ref, description=f"{noun.replace('-', ' ')} per entity",
            owners=[f"{self.team_of('feature', i)}-features"],
            metadata={"entities": ["customer_id"], "source": source, "online": i % 3 == 0,
                      "features": [{"name": f"{noun.replace('-', '_')}_7d", "dtype": "float"}]},
        )
        yield _relation(source=ref, relation="derived_from", target=source)

    # models -------------------------------------------------------------------------------
    def models(self) -> Iterator[Record]:
        remaining = self.shape.versions
        for m in itertools.count():
            if remaining <= 0:
                return
            rng = random.Random(_mix(self.seed, "model", m))
            count = min(remaining, 1 + int(rng.expovariate(1 / 7)), 60)
            remaining -= count
            yield from _Model(self, m, rng, count).records()


class _Model:
    """One model: its code, and ``count`` versions each with the run that trained it."""

    def __init__(self, org: Organisation, m: int, rng: random.Random, count: int) -> None:
        self.org, self.rng, self.count = org, rng, count
        self.team = org.team_of("model", m)
        self.name = _unique_name(MODEL_NOUNS, MODEL_FLAVOURS, m)
        self.framework, self.framework_version = rng.choice(FRAMEWORKS)
        self.task = rng.choice(TASKS)
        self.owner = f"{rng.choice(PEOPLE)}@example.com"
        self.environment = org.environment_ref(rng.randrange(org.shape.environment_series))
        self.datasets = [org.popular_dataset(rng) for _ in range(1 + rng.randrange(3))]
        self.features = [rng.randrange(org.shape.feature_series)
                         for _ in range(rng.randrange(3))]
        self.deployed = m % 5 == 0
        self.model_ref = f"model:{self.team}/{self.name}"
        self.code_ref = f"code:{self.team}/{self.name}-training"

    def records(self) -> Iterator[Record]:
        yield _asset(
            ref=self.model_ref, description=f"{self.task} model for {self.team}",
            owners=[self.owner], tags=[self.task],
            metadata={"task": self.task, "framework": self.framework, "license": "proprietary"},
        )
        commit = hashlib.sha1(self.code_ref.encode()).hexdigest()
        yield _asset(
            ref=self.code_ref, owners=[self.owner],
            metadata={"repository": f"https://git.example.com/{self.team}/{self.name}",
                      "commit": commit, "path": "train.py", "branch": "main"},
        )
        for v in range(1, self.count + 1):
            yield from self._version(v)

    def _version(self, v: int) -> Iterator[Record]:
        rng, org = self.rng, self.org
        version_ref = f"model_version:{self.team}/{self.name}@{v}"
        run_ref = f"run:{self.team}/{self.name}-v{v}"
        started = EPOCH + timedelta(hours=rng.randrange(20_000))
        auc = round(0.7 + rng.random() * 0.25, 4)
        yield _asset(
            ref=run_ref, owners=[self.owner],
            metadata={
                "run_type": "training", "status": "completed",
                "user": self.owner, "started_at": started.isoformat(),
                "ended_at": (started + timedelta(minutes=5 + rng.randrange(600))).isoformat(),
                "parameters": {"learning_rate": round(rng.choice((0.01, 0.05, 0.1)), 3),
                               "max_depth": rng.randrange(3, 12)},
                "seeds": {"python": v}, "metrics": {"auc": auc},
            },
        )
        latest = v == self.count
        state = ("production" if latest and self.deployed else
                 "registered" if latest else "archived")
        yield _asset(
            ref=version_ref, owners=[self.owner], tags=["candidate"] if latest else [],
            state=state,
            metadata={"framework": self.framework, "framework_version": self.framework_version,
                      "task": self.task, "metrics": {"auc": auc}},
        )
        yield _relation(source=version_ref, relation="version_of", target=self.model_ref)
        yield _relation(source=run_ref, relation="produced", target=version_ref)
        for target in (*(org.dataset_ref(d) for d in dict.fromkeys(self.datasets)),
                       self.code_ref, self.environment):
            yield _relation(source=run_ref, relation="used", target=target)
        for f in dict.fromkeys(self.features):
            yield _relation(source=version_ref, relation="requires",
                                 target=org.feature_ref(f))
        if v % 2 == 0 or latest:
            yield from self._evaluation(version_ref, v)
        if latest and self.deployed:
            yield from self._deployment(version_ref)

    def _evaluation(self, version_ref: str, v: int) -> Iterator[Record]:
        ref = f"evaluation:{self.team}/{self.name}-v{v}-holdout"
        holdout = self.org.dataset_ref(self.datasets[0])
        yield _asset(ref=ref, metadata={
            "metrics": {"auc": round(0.7 + self.rng.random() * 0.25, 4)},
            "data_slice": "holdout", "passed": True,
        })
        yield _relation(source=ref, relation="evaluated", target=version_ref)
        yield _relation(source=ref, relation="evaluated_on", target=holdout)

    def _deployment(self, version_ref: str) -> Iterator[Record]:
        ref = f"deployment:{self.team}/{self.name}-prod"
        yield _asset(ref=ref, state="active", metadata={
            "target": "kserve", "environment": "prod", "replicas": 2 + self.rng.randrange(6),
            "endpoint": f"https://{self.name}.{self.team}.serving.example.com",
        })
        yield _relation(source=ref, relation="serves", target=version_ref)


def generate(versions: int, *, seed: int = 7) -> Iterator[Record]:
    """Every record of the organisation, shared assets first, then model by model."""
    org = Organisation(versions, seed=seed)
    yield from org.shared_assets()
    yield from org.models()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1000, help="model versions")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for record in generate(args.versions, seed=args.seed):
        kind = "asset" if isinstance(record, AssetCreate) else "relation"
        sys.stdout.write(json.dumps({kind: record.model_dump(exclude_defaults=True)}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
