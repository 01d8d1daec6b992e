"""Python reference: asyncio.to_thread on a 2-thread default executor.

Usage: python3 bench/python/to_thread.py <measurement[,measurement...]> <config-json>
Prints one JSON line last on stdout, like bench/measure.js: {"ok": true, "results": {...}}.
Python threads share memory (nothing is copied) and take turns on the GIL, so the payload
measurements do not apply and the CPU-bound speed-up shows the GIL, not the hardware.
"""

import asyncio
import concurrent.futures
import gc
import json
import os
import sys
import time
import traceback

MIB = 1024 * 1024


def noop(x):
    return x


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def now_ms():
    return time.perf_counter() * 1000


def percentiles(latencies_ms):
    s = sorted(latencies_ms)

    def q(p):
        pos = (len(s) - 1) * p
        lo, hi = int(pos), min(int(pos) + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)

    return {"p50Us": q(0.5) * 1000, "p99Us": q(0.99) * 1000}


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def use_executor(config):
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=config["workers"])
    asyncio.get_running_loop().set_default_executor(executor)
    return executor


async def submit_all(count):
    await asyncio.gather(*(asyncio.to_thread(noop, i) for i in range(count)))


def noop_tasks(config, key):
    """The no-op workload's size, capped at pythonNoopTasks: to_thread runs ~5k tasks/s."""
    return min(config[key], config.get("pythonNoopTasks", config[key]))


async def noop_burst(config):
    use_executor(config)
    await submit_all(config["noopWarmup"])
    tasks = noop_tasks(config, "noopTasks")
    start = now_ms()
    await submit_all(tasks)
    return {"opsPerSec": tasks / ((now_ms() - start) / 1000)}


async def noop_window(config):
    use_executor(config)
    await submit_all(config["noopWarmup"])
    total = noop_tasks(config, "windowTasks")
    submitted = 0

    async def lane():
        nonlocal submitted
        while submitted < total:
            submitted += 1
            await asyncio.to_thread(noop, submitted)

    start = now_ms()
    await asyncio.gather(*(lane() for _ in range(config["inFlight"])))
    return {"opsPerSec": total / ((now_ms() - start) / 1000)}


async def roundtrip(config):
    use_executor(config)
    for i in range(config["roundtripWarmup"]):
        await asyncio.to_thread(noop, i)
    latencies = []
    for i in range(config["roundtripCalls"]):
        start = now_ms()
        await asyncio.to_thread(noop, i)
        latencies.append(now_ms() - start)
    return percentiles(latencies)


async def cpu(config):
    # One repetition only: fib in CPython is ~15x slower than in V8.
    use_executor(config)
    count, n = config["cpuTasks"], config["fibN"]
    start = now_ms()
    for _ in range(count):
        fib(n)
    serial = now_ms() - start
    start = now_ms()
    await asyncio.gather(*(asyncio.to_thread(fib, n) for _ in range(count)))
    parallel = now_ms() - start
    return {"speedup": serial / parallel, "parallelMs": parallel}


async def startup(config):
    gc.collect()
    baseline = rss_bytes()
    start = now_ms()
    use_executor(config)
    await asyncio.to_thread(noop, 0)
    start_ms = now_ms() - start
    await submit_all(1000)
    await asyncio.sleep(config["idleMs"] / 1000)
    gc.collect()
    return {"startMs": start_ms, "idleRssMiB": (rss_bytes() - baseline) / MIB}


async def sync(config):
    # concurrent.futures.Future.result() is Python's blocking wait on another thread's work.
    executor = use_executor(config)
    for i in range(config["syncWarmup"]):
        executor.submit(noop, i).result()
    latencies = []
    for i in range(config["syncCalls"]):
        start = now_ms()
        executor.submit(noop, i).result()
        latencies.append(now_ms() - start)
    return percentiles(latencies)


# What a reader of the table should know about a Python number.
NOTES = {
    "cpu": ["threads take turns on the GIL: no parallel speed-up; no raw reference to compare with"],
    "startup": ["threads in the same interpreter: nothing to boot or import"],
    "sync": ["concurrent.futures.Future.result() on the executor's future"],
}

MEASUREMENTS = {
    "noop-burst": noop_burst,
    "noop-window": noop_window,
    "roundtrip": roundtrip,
    "cpu": cpu,
    "startup": startup,
    "sync": sync,
}


def main():
    # Several measurements may share this process (comma-separated), each with its own executor.
    measurements, config = sys.argv[1].split(","), json.loads(sys.argv[2])
    results = {}
    for measurement in measurements:
        gc.collect()
        try:
            values = asyncio.run(MEASUREMENTS[measurement](config))
            results[measurement] = {"ok": True, "values": values, "notes": NOTES.get(measurement, [])}
        except Exception:
            results[measurement] = {"ok": False, "error": traceback.format_exc()}
    print()
    print(json.dumps({"ok": True, "results": results}), flush=True)
    sys.exit(0 if all(r["ok"] for r in results.values()) else 1)


if __name__ == "__main__":
    main()
