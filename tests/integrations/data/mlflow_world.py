"""Populate an MLflow tracking server through MLflow's own client, for
tests/integrations/test_int_mlflow.py. Run by the MLflow test venv's interpreter (MLflow is
not a ModelAtlas dependency):

    python mlflow_world.py TRACKING_URI base   # 2 registered models, 3 versions
    python mlflow_world.py TRACKING_URI more   # then: one more version and alias

Prints one JSON line describing what it made (run ids), for the test to assert on."""

from __future__ import annotations

import json
import sys
import warnings

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

warnings.filterwarnings("ignore")  # MLflow 3 warns that stages are deprecated


class Echo(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return model_input


def train(name: str, run_name: str, params: dict[str, object], metrics: dict[str, float],
          *, dataset: bool) -> tuple[str, str]:
    """One run logging params, metrics, maybe a dataset, and a pyfunc model; registered as
    the next version of ``name``. Returns (run id, version number)."""
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        if dataset:
            frame = pd.DataFrame({"amount": [1.0, 2.5, 3.0], "label": [0, 1, 0]})
            data = mlflow.data.from_pandas(frame, source="s3://bucket/transactions.csv",
                                           name="transactions", targets="label")
            mlflow.log_input(data, context="training")
        info = mlflow.pyfunc.log_model(name="model", python_model=Echo(),
                                       pip_requirements=["numpy>=1.26", "pandas<3"])
    version = mlflow.register_model(info.model_uri, name)
    return run.info.run_id, str(version.version)


def base(client: MlflowClient) -> dict[str, object]:
    mlflow.set_experiment("fraud")
    client.create_registered_model("Fraud Detector", tags={"team": "risk"},
                                   description="flags card fraud")
    run1, v1 = train("Fraud Detector", "fraud-train-1", {"lr": 0.1, "depth": 4},
                     {"auc": 0.91, "loss": 0.3}, dataset=True)
    run2, v2 = train("Fraud Detector", "fraud-train-2", {"lr": 0.05, "depth": 6},
                     {"auc": 0.94, "loss": 0.2}, dataset=True)
    client.set_model_version_tag("Fraud Detector", v2, "validated", "yes")
    client.set_registered_model_alias("Fraud Detector", "champion", v2)
    client.transition_model_version_stage("Fraud Detector", v1, "Production")
    client.create_registered_model("churn")
    run3, v3 = train("churn", "churn-train", {"C": 1.0}, {"f1": 0.7}, dataset=False)
    client.transition_model_version_stage("churn", v3, "Staging")
    return {"runs": [run1, run2, run3], "versions": [v1, v2, v3]}


def more(client: MlflowClient) -> dict[str, object]:
    mlflow.set_experiment("fraud")
    run4, v4 = train("Fraud Detector", "fraud-train-3", {"lr": 0.01, "depth": 8},
                     {"auc": 0.96, "loss": 0.1}, dataset=True)
    client.set_registered_model_alias("Fraud Detector", "challenger", v4)
    return {"runs": [run4], "versions": [v4]}


def main() -> None:
    uri, step = sys.argv[1], sys.argv[2]
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    made = base(client) if step == "base" else more(client)
    print(json.dumps(made))


if __name__ == "__main__":
    main()
