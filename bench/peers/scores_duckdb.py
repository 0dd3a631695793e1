"""Scores by relationship with DuckDB, as a script: ``python
bench/peers/scores_duckdb.py responses.csv > scores.json``.

The same table as ``scores_pandas.py`` (and ``valuechain scores --json --by
relationship`` before its protection): one SQL query over ``responses.csv`` for the
latest campaign, the t quantile of the interval from SciPy.
"""

from __future__ import annotations

import json
import sys

import duckdb
import numpy as np
from scipy.special import stdtrit

QUERY = """
WITH r AS (
    SELECT response_id, campaign, instrument, rated_id, rater_id,
           regexp_replace(item, '_[0-9]+$', '') AS dimension, score
    FROM read_csv(?, header = true, all_varchar = false,
                  types = {'score': 'DOUBLE', 'expectation': 'DOUBLE', 'comment': 'VARCHAR'})
),
latest AS (SELECT * FROM r WHERE campaign = (SELECT max(campaign) FROM r)),
dims AS (
    SELECT campaign, response_id, instrument, rated_id, rater_id, dimension, avg(score) AS s
    FROM latest GROUP BY ALL
),
person AS (
    SELECT campaign, response_id, instrument, rated_id, rater_id,
           CASE WHEN instrument = 'service_factors'
                THEN max(s) FILTER (WHERE dimension = 'overall') ELSE avg(s) END AS x
    FROM dims GROUP BY campaign, response_id, instrument, rated_id, rater_id
)
SELECT campaign, instrument, rated_id, rater_id,
       count(*) AS n, avg(x) AS mean, stddev_samp(x) AS sd
FROM person WHERE x IS NOT NULL GROUP BY ALL
"""


def main(path: str) -> None:
    con = duckdb.connect()
    got = con.execute(QUERY, [path]).fetchnumpy()
    n = got["n"].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stdtrit(n - 1, 0.975) * np.asarray(got["sd"], dtype=np.float64) / np.sqrt(n)
    mean = np.asarray(got["mean"], dtype=np.float64)
    cells = [
        {
            "instrument": i,
            "provider": p,
            "customer": c,
            "n": int(k),
            "mean": m,
            "ci_low": None if h != h else m - h,
            "ci_high": None if h != h else m + h,
        }
        for i, p, c, k, m, h in zip(
            got["instrument"].tolist(),
            got["rated_id"].tolist(),
            got["rater_id"].tolist(),
            n.tolist(),
            mean.tolist(),
            half.tolist(),
            strict=True,
        )
    ]
    campaign = str(got["campaign"][0]) if len(cells) else None
    json.dump({"campaign": campaign, "cells": cells}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
