#!/usr/bin/env python
"""Cross-sample matrix benchmark: GET /api/analyses/matrix (and its CSV) for samples x OTUs of synthetic but
realistic stored PathoScope results.

    .venv/bin/python bench/matrix.py [--sizes 50x150,500x1500] [--repeats 3] [--present 4] [--noise 12]

What it does (figures in bench/README.md):

1. makes a throwaway data path with its own SQLite database (`--database-url` for another, empty, one) and runs
   `manage.py migrate`; creates one administrator;
2. for each size SxO, `tests.analyses.matrix_data.synthetic_matrix`: a reference of O OTUs (two segments of 1-8 kb
   each) built into a ready index, S ready samples with one ready analysis each, its results in the workflow's
   shape: `--present` OTUs with hundreds to thousands of reads on both segments, `--noise` OTUs with a handful of
   reads and tiny weights, depth arrays simulated from 150 nt reads;
3. chooses the samples by a label put on all of them (as a person picks hundreds; ids stop at 250) and times, with
   `all=true` (every OTU of the reference a column: S x O cells):
   - `cold`: the first matrix, which computes each analysis's numbers from its results and keeps them (an analysis
     finished by the workflow has them already; this is the case of analyses finished before they were kept);
   - `build`: `analyses.matrix.matrix_build` alone, warm (the numbers kept), best of `--repeats`;
   - `GET`: the whole request through Django's test client (selection, build, JSON rendering), best of `--repeats`,
     with its SQL query count and the size of the JSON;
   - `GET found`: the same without `all=true` (columns: the OTUs found in at least one sample);
   - `CSV`: GET /api/analyses/matrix.csv?all=true (every S x O cell, long form);
4. prints the table and removes the temp dir (`--keep` keeps it).

Needs no Redis server running for the timings (the sandbox names one for the settings only).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50x150,500x1500", help="samples x OTUs, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per warm measure (best is shown)")
    parser.add_argument("--present", type=int, default=4, help="OTUs truly present per sample")
    parser.add_argument("--noise", type=int, default=12, help="noise OTUs (a few reads) per sample")
    parser.add_argument("--no-csv", action="store_true", help="skip the CSV export timing")
    parser.add_argument("--database-url", help="an empty database to use instead of a temp SQLite file")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"))
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--profile", action="store_true", help="print the build's 25 costliest functions")
    args = parser.parse_args()
    with sandbox(
        prefix="virtool-bench-matrix", redis_url=args.redis_url, database_url=args.database_url, keep=args.keep
    ):
        run(args)


def best(repeats: int, work) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test import Client

    from analyses.matrix import MatrixRequest, matrix_build
    from samples.models import Label, Sample
    from tests.analyses.matrix_data import synthetic_matrix
    from users.models import User

    admin = User.objects.create_user("bench", "bench-password", administrator_role="full")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    table = []
    for number, size in enumerate(args.sizes.split(",")):
        samples, otus = (int(part) for part in size.lower().split("x"))
        start = time.perf_counter()
        _reference, analyses = synthetic_matrix(
            samples=samples,
            otus=otus,
            user=admin,
            present=args.present,
            noise=args.noise,
            seed=number,
            name=f"Bench {size}",
        )
        made = time.perf_counter() - start
        # Chosen by label, as a person picks hundreds of samples (ids in a query string stop at 250).
        label = Label.objects.create(name=f"Bench {size}")
        through = Sample.labels.through
        through.objects.bulk_create([through(sample_id=a.sample_id, label_id=label.pk) for a in analyses])
        choice = f"label={label.pk}"
        url = f"/api/analyses/matrix?all=true&{choice}"
        start = time.perf_counter()
        first = client.get(url)
        assert first.status_code == 200, first.content[:500]
        cold = time.perf_counter() - start
        request = MatrixRequest(labels=[label.pk], include_all=True)
        queries: list[str] = []

        def counted(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            build, matrix = best(args.repeats, lambda request=request: matrix_build(user=admin, request=request))
        cells = sum(len(row["cells"]) for row in matrix["samples"])
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(matrix_build, user=admin, request=request)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        get, response = best(args.repeats, lambda url=url: client.get(url))
        assert response.status_code == 200
        found_url = f"/api/analyses/matrix?{choice}"
        get_found, found = best(args.repeats, lambda url=found_url: client.get(url))
        columns_found = len(found.json()["otus"])
        csv_time = None
        if not args.no_csv:
            csv_url = f"/api/analyses/matrix.csv?all=true&{choice}"
            csv_time, csv_response = best(1, lambda csv_url=csv_url: client.get(csv_url))
            assert csv_response.status_code == 200
        table.append(
            {
                "size": f"{samples} x {otus}",
                "cells": cells,
                "setup": made,
                "cold": cold,
                "build": build,
                "get": get,
                "queries": len(queries) // args.repeats,
                "json_mb": len(response.content) / 1e6,
                "get_found": get_found,
                "found": columns_found,
                "csv": csv_time,
            }
        )
    print()
    print(
        f"{'samples x OTUs':>16} {'cells':>9} {'cold GET':>9} {'build':>8} {'GET':>8} {'queries':>7} {'JSON MB':>8}"
        f" {'GET found':>10} {'found cols':>10} {'CSV':>8}"
    )
    for row in table:
        csv_text = f"{row['csv']:7.2f}s" if row["csv"] is not None else "       -"
        print(
            f"{row['size']:>16} {row['cells']:>9,} {row['cold']:8.2f}s {row['build']:7.2f}s {row['get']:7.2f}s"
            f" {row['queries']:>7} {row['json_mb']:8.1f} {row['get_found']:9.2f}s {row['found']:>10} {csv_text}"
        )
    print("\nbest of", args.repeats, "runs for build / GET / GET found; cold and CSV: one run; setup not shown")


if __name__ == "__main__":
    main()
