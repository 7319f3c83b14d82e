#!/usr/bin/env python3
"""bench/launch: what `lockbox run` costs per launch, as ratios against baselines in the same run.

Setup (a fresh temp store): 50 secrets resolved for the launch, spread over all five scope kinds
(10 each in apikey:k1, group:g1, function:prod/fn, namespace:prod, global), plus 10,000 other
secrets in other scopes. Every launch is audited (two records).

Measured, interleaved round by round so machine noise hits every variant alike:
  bare   /bin/true                                   (exec baseline)
  env    env <the same 50 FLUXBASE_SECRET_*=...> /bin/true
  run    lockbox run --namespace prod --function fn --group g1 --apikey k1 -- /bin/true
  agent  the same launch with --agent SOCKET, through a `lockbox agent` started on the same store
         (SPEC §12; --no-agent-variant leaves it out)
Prints medians, the minor page faults of each launch (wait4: the process and what it reaped),
the agent's RSS at the end, the ratios run/env and run/bare, and the median of each phase lockbox reports
with LOCKBOX_TIMING (exec+load, cli+policy, store-open, keys, resolve, decrypt, audit, spawn, child,
audit-exit). No assertion: figures only.

With --baseline OTHER_LOCKBOX, a second lockbox binary (e.g. the build before a change) runs the
same launch against the same store, interleaved as "base", and the ratio run/base is printed.

Then launches per second with 2 and 8 concurrent launchers, direct vs agent (--concurrency N
launches each; 0 skips).

Usage: bench/launch.py [--lockbox build/cli/lockbox] [--baseline OTHER] [--rounds 200] [--others 10000]
                       [--concurrency 200] [--no-agent-variant]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SCOPES = [("--apikey", "k1"), ("--group", "g1"), ("--function", "fn", "--namespace", "prod"),
          ("--namespace", "prod"), ()]


def lockbox(args, env, stdin=None):
    return subprocess.run(args, env=env, input=stdin, check=True, capture_output=True)


def seed(binary, env, others):
    lockbox([binary, "init"], env)
    # 10 resolved secrets per scope kind, values of 32 bytes.
    for i, flags in enumerate(SCOPES):
        body = "".join(f"S{i}_{j}={'v' * 24}{i:04d}{j:04d}\n" for j in range(10))
        lockbox([binary, "secrets", "import", "-", *flags], env, body.encode())
    # Others: in scopes the launch does not resolve.
    per_scope = 1000
    for k in range(others // per_scope):
        body = "".join(f"OTHER_{k}_{j}={'x' * 32}\n" for j in range(per_scope))
        flags = [("--namespace", f"ns{k}"), ("--function", f"fn{k}", "--namespace", "prod"),
                 ("--apikey", f"key{k}"), ("--group", f"grp{k}")][k % 4]
        lockbox([binary, "secrets", "import", "-", *flags], env, body.encode())


FAULTS = {}  # variant -> minor page faults per launch


def timed(argv, env, variant=None):
    start = time.monotonic_ns()
    env = dict(env)
    if "LOCKBOX_TIMING" in env:
        env["LOCKBOX_TIMING"] = str(start)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = (time.monotonic_ns() - start) / 1e6
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} failed ({proc.returncode}): {err.decode()[-400:]}")
    if variant:
        FAULTS.setdefault(variant, []).append(usage.ru_minflt)
    return elapsed, err.decode()


def start_agent(binary, env, work):
    """`lockbox agent` on a socket in the work dir; returns (process, socket) once it listens."""
    sock_dir = os.path.join(work, "s")
    os.mkdir(sock_dir, 0o700)
    sock = os.path.join(sock_dir, "agent.sock")
    proc = subprocess.Popen([binary, "agent", "--socket", sock], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    line = proc.stderr.readline().decode()
    if "listening on" not in line:
        sys.exit(f"lockbox agent did not start: {line}")
    return proc, sock


def throughput(argv, env, workers, launches):
    """Launches per second with `workers` concurrent launchers, `launches` in all."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_):
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    start = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(launches)))
    return launches / (time.monotonic() - start)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def phases(stderr):
    for line in stderr.splitlines():
        if line.startswith("lockbox timing:"):
            out = {}
            for part in line.split()[2:]:
                key, value = part.split("=")
                ms, faults = value.split("/")
                out[key] = (float(ms[:-2]), int(faults[:-2]))
            return out
    return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lockbox", default=os.path.join(os.path.dirname(__file__), "..", "build", "cli", "lockbox"))
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--others", type=int, default=10000)
    ap.add_argument("--baseline", help="another lockbox binary to time against, interleaved")
    ap.add_argument("--concurrency", type=int, default=200,
                    help="launches per concurrency run (2 and 8 launchers, direct vs agent); 0 skips")
    ap.add_argument("--no-agent-variant", action="store_true", help="leave out the launch through the agent")
    args = ap.parse_args()
    binary = os.path.abspath(args.lockbox)
    true_bin = shutil.which("true")
    work = tempfile.mkdtemp(prefix="lockbox-bench-")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOCKBOX_")}
        env["LOCKBOX_DATA_DIR"] = os.path.join(work, ".lockbox")
        seed(binary, env, args.others)
        run_argv = [binary, "run", "--namespace", "prod", "--function", "fn", "--group", "g1",
                    "--apikey", "k1", "--", true_bin]
        dry = lockbox([binary, "--json", *run_argv[1:-2], "--dry-run", "--", true_bin], env)
        injected = dry.stdout.decode().count('"env"')
        env_argv = ["env"] + [f"FLUXBASE_SECRET_S{i}_{j}={'v' * 24}{i:04d}{j:04d}"
                              for i in range(5) for j in range(10)] + [true_bin]
        timing_env = dict(env, LOCKBOX_TIMING="1")
        base_argv = [os.path.abspath(args.baseline), *run_argv[1:]] if args.baseline else None
        samples = {"bare": [], "env": [], "run": []}
        if base_argv:
            samples["base"] = []
        breakdown, base_breakdown, agent_breakdown = {}, {}, {}
        agent_proc, agent_argv = None, None
        if not args.no_agent_variant:
            agent_proc, sock = start_agent(binary, env, work)
            agent_argv = [binary, "run", "--agent", sock, *run_argv[2:]]
            samples["agent"] = []

        def time_base():
            ms, err = timed(base_argv, timing_env)
            samples["base"].append(ms)
            for k, v in phases(err).items():
                base_breakdown.setdefault(k, []).append(v)
        for _ in range(5):  # warm the page cache
            timed(run_argv, env), timed(env_argv, env), timed([true_bin], env)
            if base_argv:
                timed(base_argv, env)
            if agent_argv:
                timed(agent_argv, env)
        for round_no in range(args.rounds):
            samples["bare"].append(timed([true_bin], env, "bare")[0])
            samples["env"].append(timed(env_argv, env, "env")[0])
            if agent_argv:
                ms, err = timed(agent_argv, timing_env, "agent")
                samples["agent"].append(ms)
                for k, v in phases(err).items():
                    agent_breakdown.setdefault(k, []).append(v)
            # The baseline goes first every other round, so neither binary always finds the
            # store's pages warmer.
            if base_argv and round_no % 2 == 0:
                time_base()
            ms, err = timed(run_argv, timing_env, "run")
            samples["run"].append(ms)
            for k, v in phases(err).items():
                breakdown.setdefault(k, []).append(v)
            if base_argv and round_no % 2 == 1:
                time_base()
        med = {k: statistics.median(v) for k, v in samples.items()}
        print(f"lockbox run injecting {injected} secrets ({args.others} others stored), {args.rounds} rounds")
        for k in samples:
            faults = f"   {statistics.median(FAULTS[k]):6.0f} pf" if k in FAULTS else ""
            print(f"  {k:5s} median {med[k]:7.2f} ms   p90 {statistics.quantiles(samples[k], n=10)[-1]:7.2f} ms{faults}")
        print(f"  ratio run/env  = {med['run'] / med['env']:.2f}x   (target <= 3x, stretch 2x)")
        if agent_argv:
            print(f"  ratio agent/env = {med['agent'] / med['env']:.2f}x   (target <= 1.5x, stretch 1.2x); "
                  f"agent/run = {med['agent'] / med['run']:.2f}x; agent RSS {rss_kib(agent_proc.pid) / 1024:.1f} MiB")
        print(f"  ratio run/bare = {med['run'] / med['bare']:.2f}x")
        if base_argv:
            print(f"  ratio run/base = {med['run'] / med['base']:.3f}x   (base: {args.baseline}; "
                  f"base/env = {med['base'] / med['env']:.2f}x)")
        print("  where lockbox's time goes (median per phase: ms, minor page faults"
              + ("; then the baseline's)" if base_breakdown else "):"))
        for k, v in breakdown.items():
            line = f"    {k:11s} {statistics.median(x[0] for x in v):6.3f} ms  {statistics.median(x[1] for x in v):5.0f} pf"
            if k in base_breakdown:
                b = base_breakdown[k]
                line += f"   base {statistics.median(x[0] for x in b):6.3f} ms  {statistics.median(x[1] for x in b):5.0f} pf"
            print(line)
        if agent_breakdown:
            print("  through the agent (median per phase: ms, minor page faults):")
            for k, v in agent_breakdown.items():
                print(f"    {k:11s} {statistics.median(x[0] for x in v):6.3f} ms  "
                      f"{statistics.median(x[1] for x in v):5.0f} pf")
        if agent_argv and args.concurrency:
            for workers in (2, 8):
                direct = throughput(run_argv, env, workers, args.concurrency)
                agent = throughput(agent_argv, env, workers, args.concurrency)
                print(f"  {workers} concurrent launchers: direct {direct:6.0f}/s, agent {agent:6.0f}/s "
                      f"({agent / direct:.2f}x)")
        if agent_proc:
            print(f"  agent RSS at the end: {rss_kib(agent_proc.pid) / 1024:.1f} MiB")
            agent_proc.terminate()
            agent_proc.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
