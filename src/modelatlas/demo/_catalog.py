"""The vocabulary of the demo organisation "Acme": teams, data, features, models, platforms.

Plain data, kept apart from the code that writes it (``_builder``), so the story can be
edited without touching the logic. Every name is something a real ML platform team would
recognise; the figures the builder derives from them are drawn from a seeded RNG.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Team:
    namespace: str
    title: str
    email: str
    people: tuple[str, ...]
    repository: str
    slices: tuple[str, ...]


@dataclass(frozen=True)
class DemoDataset:
    ref: str  # namespace/name
    description: str
    fields: str  # "name type, name type!" where "!" marks a non-nullable column
    rows: int  # rows in the first version; later versions grow
    versions: int = 3
    format: str = "parquet"
    partitioned_by: tuple[str, ...] = ("dt",)


@dataclass(frozen=True)
class DemoFeature:
    ref: str
    description: str
    sources: tuple[str, ...]  # dataset namespace/name
    entities: tuple[str, ...]
    features: str  # "name dtype, ..."
    versions: int = 1
    online: bool = True
    ttl_seconds: int | None = 86_400


@dataclass(frozen=True)
class DemoEnvironment:
    key: str
    version: str
    python: str
    packages: tuple[str, ...]
    image: str
    accelerator: str = "cpu"
    cuda: str | None = None


@dataclass(frozen=True)
class DemoModel:
    ref: str
    description: str
    task: str  # a key of TASK_METRICS
    framework: str  # a key of FRAMEWORKS
    datasets: tuple[str, ...]
    features: tuple[str, ...] = ()
    fine_tuned_from: str | None = None  # another model's namespace/name, seeded earlier
    fairness: bool = False  # regulated decisions get fairness checks
    tags: tuple[str, ...] = field(default=())


ORG_DOMAIN = "acme.example"

TEAMS: tuple[Team, ...] = (
    Team("fraud", "Fraud & Abuse ML", "fraud-ml@acme.example", ("amara.okafor", "lukas.brandt"),
         "github.com/acme/fraud-models",
         ("region=EU", "region=NA", "region=APAC", "channel=ecommerce", "channel=card_present")),
    Team("growth", "Growth Data Science", "growth-ds@acme.example", ("sofia.rossi", "dev.patel"),
         "github.com/acme/growth-ml",
         ("plan=free", "plan=pro", "tenure<90d", "platform=ios", "platform=android")),
    Team("risk", "Credit Risk Modelling", "credit-risk@acme.example",
         ("ingrid.nilsson", "tomas.novak"), "github.com/acme/credit-risk",
         ("product=personal_loan", "product=credit_card", "thin_file=true", "region=EU")),
    Team("search", "Search Relevance", "search-relevance@acme.example",
         ("yuki.tanaka", "marco.silva"), "github.com/acme/search-ranking",
         ("locale=en-US", "locale=de-DE", "locale=ja-JP", "query_len>=4", "head_queries")),
    Team("recsys", "Recommendations", "recsys@acme.example", ("chen.wei", "olivia.martin"),
         "github.com/acme/recsys",
         ("new_users", "returning_users", "category=electronics", "category=fashion")),
    Team("platform", "ML Platform", "ml-platform@acme.example", ("noah.fischer", "aisha.khan"),
         "github.com/acme/ml-platform",
         ("lang=en", "lang=es", "channel=email", "channel=chat")),
    Team("supply", "Supply Chain Analytics", "supply-analytics@acme.example",
         ("pablo.garcia", "hannah.schmidt"), "github.com/acme/supply-forecasting",
         ("warehouse=AMS1", "warehouse=NYC2", "category=grocery", "peak_season")),
    Team("finance", "Finance Data Engineering", "finance-data@acme.example",
         ("emma.dubois",), "github.com/acme/finance-pipelines", ("currency=EUR", "currency=USD")),
)

DATASETS: tuple[DemoDataset, ...] = (
    DemoDataset("finance/transactions", "Card transactions, authorised and declined.",
                "txn_id string!, card_id string!, merchant_id string!, amount decimal(12,2)!, "
                "currency string!, mcc int, country string, ts timestamp!, is_fraud boolean",
                48_000_000, 4),
    DemoDataset("finance/chargebacks", "Chargebacks filed by issuers, with reason codes.",
                "chargeback_id string!, txn_id string!, reason_code string, amount decimal(12,2), "
                "filed_at timestamp!", 310_000),
    DemoDataset("finance/card-accounts", "One row per card account with limits and status.",
                "card_id string!, customer_id string!, credit_limit decimal(12,2), "
                "status string!, opened_at date", 2_400_000, 2),
    DemoDataset("finance/merchants", "Merchant master data.",
                "merchant_id string!, name string, mcc int!, country string, onboarded_at date",
                180_000, 2, "delta"),
    DemoDataset("fraud/labelled-disputes", "Analyst-confirmed fraud labels from disputes.",
                "txn_id string!, label string!, labelled_by string, labelled_at timestamp!",
                95_000),
    DemoDataset("fraud/device-fingerprints", "Device fingerprints seen at login and checkout.",
                "device_id string!, customer_id string, os string, emulator boolean, "
                "first_seen timestamp!", 7_800_000),
    DemoDataset("fraud/login-events", "Authentication events with IP and outcome.",
                "event_id string!, customer_id string!, ip string, outcome string!, "
                "ts timestamp!", 120_000_000),
    DemoDataset("growth/user-sessions", "App and web sessions, one row per session.",
                "session_id string!, user_id string!, platform string, duration_s int, "
                "screens int, started_at timestamp!", 210_000_000, 4),
    DemoDataset("growth/subscriptions", "Subscription lifecycle: starts, renewals, cancels.",
                "user_id string!, plan string!, event string!, mrr decimal(10,2), ts timestamp!",
                3_100_000),
    DemoDataset("growth/marketing-touches", "Campaign sends, opens and clicks.",
                "user_id string!, campaign_id string!, channel string!, action string!, "
                "ts timestamp!", 56_000_000),
    DemoDataset("growth/churn-labels", "Monthly churn outcomes per subscriber.",
                "user_id string!, month date!, churned boolean!", 2_900_000),
    DemoDataset("growth/referrals", "Referral invitations and conversions.",
                "referrer_id string!, invitee_id string, converted boolean, ts timestamp!",
                640_000, 2),
    DemoDataset("risk/loan-applications", "Consumer loan applications with requested terms.",
                "application_id string!, customer_id string!, product string!, "
                "amount decimal(12,2)!, term_months int!, income decimal(12,2), "
                "submitted_at timestamp!", 1_150_000, 4),
    DemoDataset("risk/bureau-reports", "Credit bureau pulls, one row per tradeline.",
                "report_id string!, customer_id string!, tradelines int, utilisation double, "
                "delinquencies_24m int, pulled_at timestamp!", 4_300_000),
    DemoDataset("risk/repayment-history", "Monthly repayment status per loan.",
                "loan_id string!, month date!, due decimal(12,2), paid decimal(12,2), "
                "days_past_due int!", 22_000_000),
    DemoDataset("risk/collections-outcomes", "Collections actions and recoveries.",
                "loan_id string!, action string!, recovered decimal(12,2), ts timestamp!",
                870_000, 2),
    DemoDataset("search/query-logs", "Search queries with result lists served.",
                "query_id string!, user_id string, query string!, locale string!, "
                "results array<string>, ts timestamp!", 340_000_000, 4),
    DemoDataset("search/click-logs", "Clicks and dwell time on search results.",
                "query_id string!, doc_id string!, position int!, dwell_ms int, ts timestamp!",
                95_000_000),
    DemoDataset("search/product-catalog", "Product titles, descriptions and attributes.",
                "product_id string!, title string!, description string, category string, "
                "price decimal(10,2), updated_at timestamp!", 12_000_000, 3, "delta"),
    DemoDataset("search/relevance-judgements", "Human relevance grades for query-product pairs.",
                "query string!, product_id string!, grade int!, rater string", 260_000, 2),
    DemoDataset("recsys/user-item-interactions", "Views, add-to-carts and purchases.",
                "user_id string!, item_id string!, event string!, ts timestamp!",
                780_000_000, 4),
    DemoDataset("recsys/impressions", "Items shown on recommendation surfaces.",
                "user_id string!, item_id string!, surface string!, position int, ts timestamp!",
                1_200_000_000),
    DemoDataset("recsys/baskets", "Completed orders as item baskets.",
                "order_id string!, user_id string!, items array<string>!, ts timestamp!",
                41_000_000),
    DemoDataset("platform/support-tickets", "Customer support tickets with resolution.",
                "ticket_id string!, channel string!, subject string, body string!, "
                "queue string, resolved_at timestamp", 5_600_000, 3, "jsonl"),
    DemoDataset("platform/support-replies", "Agent replies rated helpful by customers.",
                "ticket_id string!, reply string!, csat int, ts timestamp!", 2_100_000, 2,
                "jsonl"),
    DemoDataset("platform/documents-corpus", "Help-centre and policy documents, chunked.",
                "doc_id string!, chunk int!, text string!, lang string", 1_800_000, 2, "jsonl"),
    DemoDataset("platform/server-metrics", "Per-host CPU, memory and latency, one-minute grain.",
                "host string!, metric string!, value double!, ts timestamp!", 2_600_000_000),
    DemoDataset("supply/demand-history", "Daily units sold per SKU and warehouse.",
                "sku string!, warehouse string!, day date!, units int!, promo boolean",
                96_000_000, 4),
    DemoDataset("supply/inventory-snapshots", "End-of-day stock levels.",
                "sku string!, warehouse string!, day date!, on_hand int!, on_order int",
                88_000_000),
    DemoDataset("supply/deliveries", "Delivery legs with promised and actual times.",
                "delivery_id string!, origin string!, destination string!, distance_km double, "
                "promised_at timestamp!, delivered_at timestamp", 14_000_000),
)

FEATURES: tuple[DemoFeature, ...] = (
    DemoFeature("fraud/txn-aggregates", "Rolling spend and velocity per card.",
                ("finance/transactions",), ("card_id",),
                "txn_count_1h int, txn_count_24h int, amount_sum_24h double, "
                "distinct_merchants_7d int, amount_zscore_30d double", 3, ttl_seconds=3_600),
    DemoFeature("fraud/device-risk", "Device reputation and emulator signals.",
                ("fraud/device-fingerprints", "fraud/login-events"), ("device_id",),
                "accounts_per_device_30d int, failed_logins_24h int, emulator boolean"),
    DemoFeature("fraud/merchant-risk", "Chargeback rates per merchant.",
                ("finance/merchants", "finance/chargebacks"), ("merchant_id",),
                "chargeback_rate_90d double, txn_volume_30d double", 2, ttl_seconds=604_800),
    DemoFeature("growth/engagement-7d", "Seven-day engagement per user.",
                ("growth/user-sessions",), ("user_id",),
                "sessions_7d int, minutes_7d double, active_days_7d int, last_seen_days int", 2),
    DemoFeature("growth/subscription-tenure", "Plan, tenure and billing history.",
                ("growth/subscriptions",), ("user_id",),
                "tenure_days int, plan string, failed_payments_90d int, mrr double"),
    DemoFeature("growth/campaign-response", "Historical response to marketing campaigns.",
                ("growth/marketing-touches",), ("user_id",),
                "open_rate_90d double, click_rate_90d double, unsubscribed boolean",
                online=False, ttl_seconds=None),
    DemoFeature("risk/bureau-summary", "Bureau attributes summarised per applicant.",
                ("risk/bureau-reports",), ("customer_id",),
                "tradelines int, utilisation double, delinquencies_24m int, oldest_account_months "
                "int", 2, online=False, ttl_seconds=None),
    DemoFeature("risk/repayment-behaviour", "Repayment behaviour over the last 24 months.",
                ("risk/repayment-history",), ("customer_id",),
                "max_dpd_12m int, months_on_book int, paid_ratio_12m double", online=False,
                ttl_seconds=None),
    DemoFeature("risk/affordability", "Income, obligations and debt-to-income.",
                ("risk/loan-applications", "risk/bureau-reports"), ("application_id",),
                "monthly_income double, monthly_obligations double, dti double"),
    DemoFeature("search/query-features", "Query length, language and historical CTR.",
                ("search/query-logs",), ("query",),
                "query_len int, lang string, query_ctr_30d double, is_navigational boolean", 2),
    DemoFeature("search/ctr-stats", "Position-debiased click-through per product.",
                ("search/click-logs", "search/query-logs"), ("product_id",),
                "ctr_7d double, ctr_30d double, avg_dwell_ms double", ttl_seconds=21_600),
    DemoFeature("search/product-text-embeddings", "Title and description embeddings.",
                ("search/product-catalog",), ("product_id",),
                "title_embedding vector<float,384>, description_embedding vector<float,384>",
                online=True, ttl_seconds=None),
    DemoFeature("recsys/user-affinity", "Category affinity per user.",
                ("recsys/user-item-interactions",), ("user_id",),
                "top_categories array<string>, affinity_vector vector<float,64>", 2),
    DemoFeature("recsys/item-popularity", "Trending and long-term popularity per item.",
                ("recsys/user-item-interactions", "recsys/impressions"), ("item_id",),
                "views_24h int, purchases_7d int, trend_score double", ttl_seconds=3_600),
    DemoFeature("supply/demand-signals", "Lagged demand, seasonality and promotions.",
                ("supply/demand-history", "supply/inventory-snapshots"), ("sku", "warehouse"),
                "units_lag_7 int, units_lag_28 int, promo_next_7d boolean, week_of_year int",
                2, online=False, ttl_seconds=None),
)

ENVIRONMENTS: tuple[DemoEnvironment, ...] = (
    DemoEnvironment("py311-xgboost", "2024.05", "3.11",
                    ("numpy==1.26.4", "pandas==2.2.2", "scikit-learn>=1.4,<1.6",
                     "xgboost==2.0.3", "pyarrow==16.1.0"),
                    "ghcr.io/acme/ml-xgboost:2.0.3-py311"),
    DemoEnvironment("py311-lightgbm", "2024.04", "3.11",
                    ("numpy==1.26.4", "pandas==2.2.2", "scikit-learn>=1.4,<1.6",
                     "lightgbm==4.3.0"),
                    "ghcr.io/acme/ml-lightgbm:4.3.0-py311"),
    DemoEnvironment("py311-sklearn", "2024.03", "3.11",
                    ("numpy==1.26.4", "scipy==1.13.0", "scikit-learn==1.4.2", "joblib>=1.3"),
                    "ghcr.io/acme/ml-sklearn:1.4.2-py311"),
    DemoEnvironment("py311-catboost", "2024.05", "3.11",
                    ("numpy==1.26.4", "pandas==2.2.2", "catboost==1.2.5", "shap==0.45.1"),
                    "ghcr.io/acme/ml-catboost:1.2.5-py311"),
    DemoEnvironment("py310-torch-cuda121", "2024.04", "3.10",
                    ("numpy==1.26.4", "torch==2.2.2", "torchmetrics>=1.3,<2",
                     "faiss-gpu==1.7.2"),
                    "nvcr.io/nvidia/pytorch:24.03-py3", "gpu", "12.1"),
    DemoEnvironment("py311-transformers-cuda121", "2024.06", "3.11",
                    ("torch==2.3.0", "transformers==4.41.2", "peft==0.11.1",
                     "accelerate>=0.30,<1", "sentence-transformers==3.0.1"),
                    "ghcr.io/acme/ml-llm:2024.06-cuda12.1", "gpu", "12.1"),
    DemoEnvironment("py310-forecasting", "2024.02", "3.10",
                    ("numpy==1.26.4", "pandas==2.1.4", "statsmodels==0.14.2",
                     "prophet==1.1.5"),
                    "ghcr.io/acme/ml-forecasting:2024.02-py310"),
)

# framework -> (environment key, framework version, hyperparameter ranges)
FRAMEWORKS: dict[str, tuple[str, str, dict[str, tuple[float, float]]]] = {
    "xgboost": ("py311-xgboost", "2.0.3", {"max_depth": (4, 10), "learning_rate": (0.02, 0.2),
                                           "n_estimators": (200, 1200),
                                           "subsample": (0.6, 1.0)}),
    "lightgbm": ("py311-lightgbm", "4.3.0", {"num_leaves": (31, 255),
                                             "learning_rate": (0.01, 0.1),
                                             "n_estimators": (300, 2000),
                                             "min_child_samples": (10, 100)}),
    "scikit-learn": ("py311-sklearn", "1.4.2", {"C": (0.01, 10.0), "max_iter": (200, 1000)}),
    "catboost": ("py311-catboost", "1.2.5", {"depth": (4, 10), "learning_rate": (0.02, 0.15),
                                             "iterations": (500, 3000),
                                             "l2_leaf_reg": (1.0, 10.0)}),
    "pytorch": ("py310-torch-cuda121", "2.2.2", {"learning_rate": (0.0001, 0.003),
                                                 "batch_size": (256, 4096),
                                                 "epochs": (5, 40), "dropout": (0.0, 0.3)}),
    "transformers": ("py311-transformers-cuda121", "4.41.2", {"learning_rate": (0.00001, 0.0002),
                                                              "lora_r": (8, 64),
                                                              "epochs": (1, 4),
                                                              "warmup_ratio": (0.0, 0.1)}),
    "prophet": ("py310-forecasting", "1.1.5", {"changepoint_prior_scale": (0.01, 0.5),
                                               "seasonality_prior_scale": (1.0, 20.0)}),
}

# task -> metrics as (name, value for version 1, improvement per version); "lower" metrics
# are the ones that fall as a model improves.
TASK_METRICS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "binary-classification": (("auc", 0.86, 0.012), ("f1", 0.62, 0.02),
                              ("precision", 0.71, 0.015), ("recall", 0.58, 0.02),
                              ("latency_p95_ms", 18.0, -1.2)),
    "multiclass-classification": (("accuracy", 0.81, 0.015), ("macro_f1", 0.74, 0.02),
                                  ("latency_p95_ms", 35.0, -2.0)),
    "regression": (("rmse", 0.42, -0.02), ("mae", 0.29, -0.015), ("r2", 0.61, 0.03),
                   ("latency_p95_ms", 12.0, -0.8)),
    "forecasting": (("mape", 0.18, -0.012), ("rmse", 41.0, -2.5), ("bias", 0.04, -0.01)),
    "ranking": (("ndcg_at_10", 0.41, 0.015), ("mrr", 0.37, 0.012),
                ("recall_at_100", 0.78, 0.01), ("latency_p95_ms", 42.0, -3.0)),
    "text-generation": (("rouge_l", 0.31, 0.02), ("win_rate", 0.52, 0.04),
                        ("toxicity_rate", 0.012, -0.002), ("latency_p95_ms", 850.0, -60.0)),
}

LOWER_IS_BETTER = frozenset({"latency_p95_ms", "rmse", "mae", "mape", "bias", "toxicity_rate"})

FAIRNESS_GROUPS: dict[str, tuple[str, ...]] = {
    "age_band": ("18-25", "26-40", "41-65", "65+"),
    "gender": ("female", "male", "undisclosed"),
}

_B, _R, _F = "binary-classification", "regression", "forecasting"

MODELS: tuple[DemoModel, ...] = (
    DemoModel("fraud/card-fraud-detector", "Scores card authorisations for fraud in real time.",
              _B, "xgboost", ("finance/transactions", "fraud/labelled-disputes"),
              ("fraud/txn-aggregates", "fraud/device-risk", "fraud/merchant-risk"),
              tags=("tier-1", "realtime", "pci")),
    DemoModel("fraud/account-takeover", "Flags logins likely to be account takeover.", _B,
              "lightgbm", ("fraud/login-events", "fraud/device-fingerprints"),
              ("fraud/device-risk",), tags=("tier-1", "realtime")),
    DemoModel("fraud/merchant-risk-scorer", "Daily risk score for merchant onboarding.", _B,
              "catboost", ("finance/merchants", "finance/chargebacks"), ("fraud/merchant-risk",),
              tags=("batch",)),
    DemoModel("fraud/chargeback-predictor", "Predicts which transactions will charge back.", _B,
              "xgboost", ("finance/transactions", "finance/chargebacks"),
              ("fraud/txn-aggregates",), tags=("batch",)),
    DemoModel("fraud/aml-transaction-monitor", "Anti-money-laundering alerting model.", _B,
              "lightgbm", ("finance/transactions", "finance/card-accounts"),
              ("fraud/txn-aggregates",), fairness=True, tags=("tier-1", "regulated")),
    DemoModel("fraud/synthetic-identity-detector", "Detects synthetic identities at signup.",
              _B, "pytorch", ("fraud/device-fingerprints", "risk/bureau-reports"),
              ("fraud/device-risk", "risk/bureau-summary"), tags=("realtime",)),
    DemoModel("growth/churn-propensity", "Probability a subscriber cancels within 30 days.", _B,
              "xgboost", ("growth/user-sessions", "growth/churn-labels"),
              ("growth/engagement-7d", "growth/subscription-tenure"), fairness=True,
              tags=("tier-2", "batch")),
    DemoModel("growth/ltv-forecaster", "Twelve-month customer lifetime value.", _R,
              "lightgbm", ("growth/subscriptions", "growth/user-sessions"),
              ("growth/subscription-tenure", "growth/engagement-7d"), tags=("batch",)),
    DemoModel("growth/upsell-propensity", "Likelihood a free user upgrades to Pro.", _B,
              "xgboost", ("growth/subscriptions", "growth/user-sessions"),
              ("growth/engagement-7d",), fairness=True),
    DemoModel("growth/campaign-uplift", "Uplift of a retention campaign per user.", _R,
              "scikit-learn", ("growth/marketing-touches", "growth/churn-labels"),
              ("growth/campaign-response",)),
    DemoModel("growth/trial-conversion", "Converts trial users to paid.", _B, "catboost",
              ("growth/subscriptions",), ("growth/subscription-tenure",)),
    DemoModel("growth/notification-timing", "Best hour to send a push notification.",
              "multiclass-classification", "lightgbm", ("growth/user-sessions",),
              ("growth/engagement-7d",), tags=("realtime",)),
    DemoModel("growth/referral-propensity", "Who is likely to refer a friend.", _B,
              "scikit-learn", ("growth/referrals", "growth/user-sessions"),
              ("growth/engagement-7d",)),
    DemoModel("risk/credit-default-pd", "Probability of default within 12 months (IFRS 9).",
              _B, "catboost", ("risk/loan-applications", "risk/repayment-history"),
              ("risk/bureau-summary", "risk/repayment-behaviour", "risk/affordability"),
              fairness=True, tags=("tier-1", "regulated", "ifrs9")),
    DemoModel("risk/loss-given-default", "Share of exposure lost when a loan defaults.", _R,
              "lightgbm", ("risk/collections-outcomes", "risk/repayment-history"),
              ("risk/repayment-behaviour",), tags=("regulated", "ifrs9")),
    DemoModel("risk/exposure-at-default", "Outstanding balance expected at default.", _R,
              "xgboost", ("risk/repayment-history", "finance/card-accounts"),
              ("risk/repayment-behaviour",), tags=("regulated", "ifrs9")),
    DemoModel("risk/collections-prioritiser", "Orders delinquent accounts for outreach.", _B,
              "lightgbm", ("risk/collections-outcomes", "risk/repayment-history"),
              ("risk/repayment-behaviour",), fairness=True),
    DemoModel("risk/affordability-score", "Affordability score for loan origination.", _R,
              "scikit-learn", ("risk/loan-applications", "risk/bureau-reports"),
              ("risk/affordability",), fairness=True, tags=("regulated",)),
    DemoModel("risk/early-warning-signals", "Signals customers heading into arrears.", _B,
              "xgboost", ("risk/repayment-history", "finance/transactions"),
              ("risk/repayment-behaviour", "fraud/txn-aggregates"), fairness=True),
    DemoModel("search/query-ranker", "Learning-to-rank model for product search.", "ranking",
              "lightgbm", ("search/query-logs", "search/click-logs",
                           "search/relevance-judgements"),
              ("search/query-features", "search/ctr-stats"), tags=("tier-1", "realtime")),
    DemoModel("search/query-intent-classifier", "Classifies query intent (navigational, "
              "browse, specific product).", "multiclass-classification", "transformers",
              ("search/query-logs",), ("search/query-features",)),
    DemoModel("search/spelling-corrector", "Corrects misspelt queries.", "text-generation",
              "transformers", ("search/query-logs",)),
    DemoModel("search/query-autocomplete", "Suggests completions as the user types.",
              "ranking", "pytorch", ("search/query-logs",), ("search/query-features",),
              tags=("realtime",)),
    DemoModel("search/product-embedder", "Bi-encoder for product retrieval.", "ranking",
              "transformers", ("search/product-catalog", "search/relevance-judgements"),
              ("search/product-text-embeddings",)),
    DemoModel("search/semantic-retriever", "Dense retrieval over the catalogue.", "ranking",
              "transformers", ("search/product-catalog", "search/click-logs"),
              ("search/product-text-embeddings",), fine_tuned_from="search/product-embedder"),
    DemoModel("search/product-reranker", "Cross-encoder reranking the top 100 results.",
              "ranking", "transformers", ("search/relevance-judgements", "search/click-logs"),
              ("search/ctr-stats",), fine_tuned_from="search/product-embedder"),
    DemoModel("recsys/home-feed-recommender", "Ranks items on the home feed.", "ranking",
              "pytorch", ("recsys/user-item-interactions", "recsys/impressions"),
              ("recsys/user-affinity", "recsys/item-popularity"), tags=("tier-1", "realtime")),
    DemoModel("recsys/similar-items", "Item-to-item similarity for product pages.", "ranking",
              "pytorch", ("recsys/user-item-interactions",), ("recsys/item-popularity",)),
    DemoModel("recsys/next-basket", "Predicts the next basket from order history.", "ranking",
              "pytorch", ("recsys/baskets",), ("recsys/user-affinity",)),
    DemoModel("recsys/cold-start-recommender", "Recommendations for brand-new users.",
              "ranking", "lightgbm", ("recsys/impressions", "search/product-catalog"),
              ("recsys/item-popularity",)),
    DemoModel("platform/support-ticket-router", "Routes tickets to the right queue.",
              "multiclass-classification", "transformers", ("platform/support-tickets",)),
    DemoModel("platform/doc-embedder", "Sentence embeddings for help-centre search.",
              "ranking", "transformers", ("platform/documents-corpus",)),
    DemoModel("platform/support-reply-llm", "Drafts replies for support agents.",
              "text-generation", "transformers",
              ("platform/support-replies", "platform/support-tickets"), tags=("genai",)),
    DemoModel("platform/support-reply-llm-de", "German fine-tune of the reply drafter.",
              "text-generation", "transformers", ("platform/support-replies",),
              fine_tuned_from="platform/support-reply-llm", tags=("genai",)),
    DemoModel("platform/infra-anomaly-detector", "Flags anomalous host metrics.", _B,
              "scikit-learn", ("platform/server-metrics",)),
    DemoModel("platform/capacity-forecaster", "Forecasts cluster capacity needs.", _F,
              "prophet", ("platform/server-metrics",)),
    DemoModel("supply/demand-forecaster", "Daily demand per SKU and warehouse.", _F,
              "lightgbm", ("supply/demand-history",), ("supply/demand-signals",),
              tags=("tier-1", "batch")),
    DemoModel("supply/inventory-replenishment", "Reorder quantities per SKU.", _R, "xgboost",
              ("supply/inventory-snapshots", "supply/demand-history"),
              ("supply/demand-signals",), tags=("batch",)),
    DemoModel("supply/delivery-eta", "Estimated delivery time for each order.", _R,
              "catboost", ("supply/deliveries",), tags=("realtime",)),
    DemoModel("supply/promo-demand-forecaster", "Demand forecast during promotions.", _F,
              "lightgbm", ("supply/demand-history",), ("supply/demand-signals",),
              fine_tuned_from="supply/demand-forecaster"),
)

DEPLOY_TARGETS: dict[str, str] = {
    "realtime": "kserve", "batch": "airflow-batch", "genai": "vllm-on-kserve",
}
REGIONS: tuple[str, ...] = ("eu-west-1", "us-east-1")
