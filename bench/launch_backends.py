#!/usr/bin/env python3
"""bench/launch_backends: the same `lockbox run` on SQLite and on PostgreSQL, side by side.

Seeds the store of bench/launch.py (50 secrets resolved over five scopes, 10,000 others) in
SQLite, copies it into a scratch database of the PostgreSQL cluster LOCKBOX_TEST_PG_URL names
(`lockbox store copy`, so both hold the same rows), then interleaves round by round:
  env     env <the same 50 variables> /bin/true
  sqlite  lockbox run ... -- /bin/true   (the SQLite file)
  pg      lockbox run ... -- /bin/true   (--store postgresql://.../scratch)
and prints medians, pg/sqlite and each backend's LOCKBOX_TIMING phases. Every launch is audited.
The scratch database is dropped at the end. No assertion: figures only.

Usage: LOCKBOX_TEST_PG_URL=postgresql://user:pw@127.0.0.1:PORT bench/launch_backends.py \
         [--lockbox build/cli/lockbox] [--rounds 200] [--others 10000]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from launch import lockbox, phases, seed, timed  # noqa: E402


def psql(base, sql):
    subprocess.run(["psql", "-q", f"{base}/postgres", "-c", sql], check=True, capture_output=True)


def summary(name, samples, breakdown):
    print(f"  {name:6s} median {statistics.median(samples):7.2f} ms   "
          f"p90 {statistics.quantiles(samples, n=10)[-1]:7.2f} ms")
    if breakdown:
        print("         " + "  ".join(f"{k}={statistics.median(x[0] for x in v):.3f}"
                                      for k, v in breakdown.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lockbox", default=os.path.join(os.path.dirname(__file__), "..", "build", "cli", "lockbox"))
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--others", type=int, default=10000)
    args = ap.parse_args()
    base = os.environ.get("LOCKBOX_TEST_PG_URL", "")
    if not base:
        sys.exit("LOCKBOX_TEST_PG_URL is not set (start a cluster with scripts/pg-cluster.sh start DIR)")
    binary = os.path.abspath(args.lockbox)
    true_bin = shutil.which("true")
    work = tempfile.mkdtemp(prefix="lockbox-bench-")
    db = f"lockbox_bench_launch_{os.getpid()}"
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOCKBOX_")}
        env["LOCKBOX_DATA_DIR"] = os.path.join(work, ".lockbox")
        seed(binary, env, args.others)
        psql(base, f"CREATE DATABASE {db}")
        pg_url = f"{base}/{db}"
        lockbox([binary, "store", "copy", "--to", pg_url], env)
        run = [binary, "run", "--namespace", "prod", "--function", "fn", "--group", "g1", "--apikey", "k1"]
        argv = {"sqlite": run + ["--", true_bin], "pg": run + ["--store", pg_url, "--", true_bin]}
        env_argv = ["env"] + [f"FLUXBASE_SECRET_S{i}_{j}={'v' * 24}{i:04d}{j:04d}"
                              for i in range(5) for j in range(10)] + [true_bin]
        timing_env = dict(env, LOCKBOX_TIMING="1")
        samples = {"env": [], "sqlite": [], "pg": []}
        breakdown = {"sqlite": {}, "pg": {}}
        for _ in range(5):
            timed(argv["sqlite"], env), timed(argv["pg"], env), timed(env_argv, env)
        for round_no in range(args.rounds):
            samples["env"].append(timed(env_argv, env)[0])
            order = ("sqlite", "pg") if round_no % 2 == 0 else ("pg", "sqlite")
            for name in order:
                ms, err = timed(argv[name], timing_env)
                samples[name].append(ms)
                for k, v in phases(err).items():
                    breakdown[name].setdefault(k, []).append(v)
        print(f"lockbox run, 50 secrets injected ({args.others} others stored), {args.rounds} rounds, interleaved")
        summary("env", samples["env"], {})
        summary("sqlite", samples["sqlite"], breakdown["sqlite"])
        summary("pg", samples["pg"], breakdown["pg"])
        med = {k: statistics.median(v) for k, v in samples.items()}
        print(f"  ratio pg/sqlite = {med['pg'] / med['sqlite']:.2f}x   (target <= 1.5x)")
        print(f"  ratio pg/env    = {med['pg'] / med['env']:.2f}x   sqlite/env = {med['sqlite'] / med['env']:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(["psql", "-q", f"{base}/postgres", "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"],
                       capture_output=True)


if __name__ == "__main__":
    main()
