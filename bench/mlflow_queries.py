#!/usr/bin/env python
"""Time the shared MLflow script's search queries against a registry it already built.

``../shared/bench/mlflow_registry_bench.py`` builds its SQLite store from scratch on every
run (about 30 minutes at 100k versions on a 2-core machine) and then times its queries.
This script times the same calls -- copied from it, same filters, same warm-up and
percentile rule -- against the store such a run left behind, so ``search_bench.py`` can
measure MLflow and ModelAtlas side by side, in one run, on a quiet machine, without
rebuilding. Run it with the Python of a venv that has MLflow (never a dependency of ours):

    /tmp/mlflow-venv/bin/python bench/mlflow_queries.py --db bench/.work/mlflow-100000.db

Prints a JSON object shaped like the shared script's ``queries`` and ``paging_all_results``.
"""

import argparse
import json
import statistics
import sys
import time


def pct(values, p):
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def stats_ms(samples):
    ms = [x * 1000.0 for x in samples]
    return {"min_ms": round(min(ms), 3), "median_ms": round(statistics.median(ms), 3),
            "p95_ms": round(pct(ms, 95), 3), "n": len(ms)}


def timeit(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    samples, res = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        res = fn()
        samples.append(time.perf_counter() - t0)
    return samples, res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--paging-reps", type=int, default=5)
    args = ap.parse_args()
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{args.db}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    queries = {}
    for label, fn in [
        ("b_search_mv_tag_dataset_eq",
         lambda: client.search_model_versions("tags.dataset = 'ds-17@v3'")),
        ("b2_search_mv_tag_dataset_like",
         lambda: client.search_model_versions("tags.dataset LIKE 'ds-17@%'")),
        ("c_search_rm_tag_team_page1",
         lambda: client.search_registered_models("tags.team = 'team-3'")),
        ("d_search_rm_name_like_prefix",
         lambda: client.search_registered_models("name LIKE 'model-12%'")),
    ]:
        samples, res = timeit(fn, args.reps, args.warmup)
        queries[label] = {**stats_ms(samples), "result_count": len(res)}
        print(f"  mlflow {label:<32} median {queries[label]['median_ms']:>9.3f} ms",
              file=sys.stderr)

    def page_all(search_fn, filter_string, page_size):
        n, pages, token = 0, 0, None
        while True:
            res = search_fn(filter_string, max_results=page_size, page_token=token)
            n, pages, token = n + len(res), pages + 1, res.token
            if not token:
                return n, pages

    samples, res = timeit(lambda: page_all(client.search_model_versions,
                                           "tags.dataset LIKE 'ds-17@%'", 100),
                          args.paging_reps, 1)
    paging = {"b2_mv_dataset_like": {**stats_ms(samples), "results": res[0], "pages": res[1],
                                     "page_size": 100}}
    json.dump({"versions": {"mlflow": mlflow.__version__}, "queries": queries,
               "paging_all_results": paging, "db": args.db}, sys.stdout, indent=2)


if __name__ == "__main__":
    main()
