"""Scores by relationship with pandas, as a script: ``python
bench/peers/scores_pandas.py responses.csv > scores.json``.

The table ``valuechain scores --json --by relationship`` publishes, from the bundle's
``responses.csv``, for the latest campaign: each respondent's overall score (its
``overall`` dimension where the instrument has one, else the mean of its dimension
means), then per (instrument, provider, customer) the count, mean and the t interval.
No confidentiality protection (it would only make pandas slower).
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
from scipy.special import stdtrit


def main(path: str) -> None:
    df = pd.read_csv(
        path,
        usecols=["response_id", "campaign", "instrument", "rater_id", "rated_id", "item", "score"],
        dtype={"score": "float64"},
        engine="pyarrow",
    )
    campaign = df["campaign"].max()
    df = df[df["campaign"] == campaign]
    df["dimension"] = df["item"].str.rsplit("_", n=1).str[0]
    keys = ["response_id", "instrument", "rated_id", "rater_id"]
    dims = df.groupby([*keys, "dimension"], sort=False)["score"].mean().reset_index()
    mean_dims = dims.groupby(keys, sort=False)["score"].mean()
    overall = dims[dims["dimension"] == "overall"].set_index(keys)["score"]
    has_outcome = mean_dims.index.get_level_values("instrument") == "service_factors"
    x = mean_dims.where(~has_outcome, overall.reindex(mean_dims.index)).dropna()
    cells = x.groupby(level=["instrument", "rated_id", "rater_id"]).agg(["count", "mean", "std"])
    n = cells["count"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stdtrit(n - 1, 0.975) * cells["std"].to_numpy() / np.sqrt(n)
    cells["ci_low"] = cells["mean"] - half
    cells["ci_high"] = cells["mean"] + half
    cells = cells.reset_index().rename(columns={"rated_id": "provider", "rater_id": "customer"})
    out = cells[["instrument", "provider", "customer", "count", "mean", "ci_low", "ci_high"]]
    records = json.loads(
        out.rename(columns={"count": "n"}).to_json(orient="records", double_precision=15)
    )
    json.dump({"campaign": campaign, "cells": records}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
