"""Bounded load on ``skanime serve``: latency, throughput, errors.

One command regenerates ``benchmarks/results/serve.md`` and ``serve.json``::

    SKANIME_DATA_HOME=../shared/data python benchmarks/serve.py

It trains the default model (``make_genre_pipeline``) on a random subset of
MAL-2021 (``--train`` anime; the CLI fixture when the data is absent), saves
it, loads it back as ``skanime serve`` does, and serves it with uvicorn on a
free port of 127.0.0.1 in this process. Then:

1. a serial pass asks ``POST /predict`` once for each of ``--texts`` held-out
   synopses (one synopsis per request, ``k=5``): the reference answers;
2. ``--clients`` threads each send ``--requests`` requests, one after the
   other, cycling through the same synopses from different starting points.

Every answer of the concurrent phase must be HTTP 200 and equal to the
serial answer for the same synopsis (probabilities included, to the last
bit); anything else counts as an error, and the run exits with status 1 if
there is any. Latency is measured per request by the client (connection
reuse, HTTP/1.1 keep-alive). The load is bounded: at most
``clients x requests`` requests, to the loopback address only.

With ``--screenshot PATH`` (the default writes ``docs/_static/serve_page.png``
when Chromium and chromedriver are installed), headless Chromium also opens
the page of this server, predicts the genres of a paraphrase of
Bakemonogatari and saves a screenshot, the one in the documentation.
"""

import argparse
import http.client
import json
import os
import platform
import shutil
import socket
import sys
import tempfile
import threading
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import skanime
from skanime import GenreClassifier, save_model
from skanime._serve import Limits, load_app, running_server
from skanime.cli import BAKEMONOGATARI_SYNOPSIS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FIXTURE = ROOT / "tests" / "data" / "cli" / "anime_small.csv"

# The browser's options, shared with the page test.
sys.path.insert(0, str(ROOT / "tests"))
from _browser import headless_chrome_options  # noqa: E402


def _load(n_train, n_texts, seed):
    from skanime.datasets import load_anime

    home = os.environ.get("SKANIME_DATA_HOME")
    path = Path(home) / "mal_anime_2021.jsonl" if home else None
    if path is None or not path.is_file():
        path = FIXTURE
    bunch = load_anime(path)
    X = np.asarray(bunch.data, dtype=object)
    names = np.asarray(bunch.target_names, dtype=object)
    genres = [names[row.astype(bool)].tolist() for row in np.asarray(bunch.target)]
    order = np.random.default_rng(seed).permutation(len(X))
    n_train = min(n_train, len(X) - 1)
    train, rest = order[:n_train], order[n_train:]
    texts = X[rest[:n_texts]] if len(rest) >= n_texts else X[order[:n_texts]]
    keep = [i for i in train if genres[i]]
    return path, X[keep], [genres[i] for i in keep], [str(t) for t in texts]


class _Client:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, url):
        host, port = url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=120)
        self.connection.connect()
        # Without it, Nagle's algorithm and delayed ACKs add ~40 ms per request.
        self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def predict(self, text):
        body = json.dumps({"synopses": [text], "k": 5}).encode()
        started = time.perf_counter()
        self.connection.request(
            "POST", "/predict", body, {"Content-Type": "application/json"}
        )
        response = self.connection.getresponse()
        payload = response.read()
        return response.status, payload, time.perf_counter() - started

    def close(self):
        self.connection.close()


def _result(payload):
    return json.loads(payload)["results"][0]


def _serial(url, texts):
    client = _Client(url)
    try:
        answers, seconds = [], []
        for text in texts:
            status, payload, elapsed = client.predict(text)
            if status != 200:
                raise RuntimeError(f"serial request failed: {status} {payload[:200]}")
            answers.append(_result(payload))
            seconds.append(elapsed)
    finally:
        client.close()
    return answers, np.array(seconds)


def _concurrent(url, texts, reference, n_clients, n_requests):
    latencies = [[] for _ in range(n_clients)]
    errors = [[] for _ in range(n_clients)]
    barrier = threading.Barrier(n_clients + 1)

    def work(c):
        client = _Client(url)
        barrier.wait()
        try:
            for r in range(n_requests):
                i = (c * 37 + r) % len(texts)
                try:
                    status, payload, elapsed = client.predict(texts[i])
                except (OSError, http.client.HTTPException) as exc:
                    errors[c].append(f"client {c} request {r}: {exc!r}")
                    client.close()
                    client = _Client(url)
                    continue
                latencies[c].append(elapsed)
                if status != 200:
                    errors[c].append(f"client {c} request {r}: HTTP {status}")
                elif _result(payload) != reference[i]:
                    errors[c].append(
                        f"client {c} request {r}: answer differs from the serial one"
                    )
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in range(n_clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    flat = np.array([x for per in latencies for x in per])
    return flat, wall, [e for per in errors for e in per]


def _stats(seconds):
    ms = 1000 * np.asarray(seconds)
    return {
        "n": int(ms.size),
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "mean_ms": float(ms.mean()),
    }


def _screenshot(url, path):
    """Predict Bakemonogatari's genres on the page and save a screenshot."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return "selenium is not installed"
    if binary is None or driver is None:
        return "chromium or chromedriver is not installed"
    profile = tempfile.mkdtemp(prefix="skanime-chromium-")
    options = headless_chrome_options(
        webdriver,
        binary,
        profile,
        window_size=(1200, 1180),
        extra=("--hide-scrollbars",),
    )
    browser = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        browser.get(url + "/")
        wait = WebDriverWait(browser, 120)
        wait.until(lambda d: "genres" in d.find_element(By.ID, "model-info").text)
        box = browser.find_element(By.ID, "synopsis")
        box.send_keys(BAKEMONOGATARI_SYNOPSIS)
        browser.find_element(By.ID, "predict").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#highlighted mark"))
        path.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(path))
        chips = [
            e.text for e in browser.find_elements(By.CSS_SELECTOR, "#predicted li")
        ]
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return f"saved: the page predicted {', '.join(chips)}"


def _markdown(report):
    s, c, m = report["serial"], report["concurrent"], report["model"]
    lines = [
        "# `skanime serve` under a bounded load",
        "",
        "Generated by `benchmarks/serve.py` "
        f"({report['date']}, {report['machine']}). The default model "
        f"(`make_genre_pipeline()`) trained on {m['n_train']} anime of "
        f"`{m['data']}` ({m['n_genres']} genres, fitted in {m['fit_seconds']:.0f} "
        f"s, model file {m['file_mib']:.1f} MiB), served by uvicorn on 127.0.0.1 "
        "in the benchmark's process; one held-out synopsis per `POST /predict` "
        "request (`k=5`), keep-alive connections.",
        "",
        "| phase | clients | requests | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) "
        "| throughput (req/s) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| serial (reference answers) | 1 | {s['n']} | {s['p50_ms']:.1f} | "
        f"{s['p90_ms']:.1f} | {s['p99_ms']:.1f} | {s['max_ms']:.1f} | "
        f"{s['throughput_rps']:.1f} | 0 |",
        f"| concurrent | {c['clients']} | {c['n']} | {c['p50_ms']:.1f} | "
        f"{c['p90_ms']:.1f} | {c['p99_ms']:.1f} | {c['max_ms']:.1f} | "
        f"{c['throughput_rps']:.1f} | {c['errors']} |",
        "",
        f"- Concurrent answers equal to the serial ones: {c['n_equal']} of {c['n']} "
        "(genres, top-k and every probability compared exactly).",
        f"- Errors (non-200, failed connection or an answer different from the "
        f"serial one): **{c['errors']}**.",
        f"- {report['texts']} distinct synopses; {c['clients']} clients x "
        f"{c['requests_per_client']} requests, {c['wall_seconds']:.1f} s wall time.",
        "- The model runs in uvicorn's thread pool, one request at a time per "
        "thread; Python's GIL and the 2 cores (shared with the 8 client threads "
        "of this benchmark) bound the throughput, so concurrent requests mostly "
        "queue: their latency is about the number of clients times the serial "
        "one, and the throughput stays near the serial one "
        f"({c['throughput_rps'] / s['throughput_rps']:.2f}x here).",
        "",
        f"Screenshot: {report['screenshot']}.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1500, help="anime to train on")
    parser.add_argument("--texts", type=int, default=200, help="distinct synopses")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="per client")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--screenshot",
        type=Path,
        default=ROOT / "docs" / "_static" / "serve_page.png",
        help="where to save the page's screenshot ('-' skips it)",
    )
    args = parser.parse_args(argv)
    if args.clients * args.requests > 20000:
        parser.error("the load is bounded: clients x requests must be <= 20000")

    data, X, genres, texts = _load(args.train, args.texts, args.seed)
    print(f"training on {len(X)} anime of {data} ...", flush=True)
    started = time.perf_counter()
    model = GenreClassifier(random_state=args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=r"Labels \[[0-9, ]*\] have no")
        model.fit(list(X), genres)
    fit_seconds = time.perf_counter() - started
    print(f"  fitted in {fit_seconds:.1f} s", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "mal_subset.skops"
        save_model(model, model_file)
        file_mib = model_file.stat().st_size / 2**20
        app = load_app(model_file, limits=Limits())
        with running_server(app) as url:
            print(f"serving on {url}; serial pass over {len(texts)} synopses ...")
            reference, serial_seconds = _serial(url, texts)
            print(f"concurrent: {args.clients} clients x {args.requests} requests ...")
            latencies, wall, errors = _concurrent(
                url, texts, reference, args.clients, args.requests
            )
            shot = "skipped"
            if str(args.screenshot) != "-":
                shot = _screenshot(url, args.screenshot)
                if shot.startswith("saved"):
                    shown = args.screenshot.resolve()
                    rel = (
                        shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown
                    )
                    shot = f"`{rel}`{shot[len('saved') :]}"
                print(f"screenshot: {shot}")

    n_total = args.clients * args.requests
    report = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "skanime": skanime.__version__,
        "model": {
            "data": Path(data).name,
            "n_train": len(X),
            "n_genres": len(model.classes_),
            "fit_seconds": fit_seconds,
            "file_mib": file_mib,
        },
        "texts": len(texts),
        "serial": {
            **_stats(serial_seconds),
            "throughput_rps": len(serial_seconds) / float(serial_seconds.sum()),
        },
        "concurrent": {
            **_stats(latencies),
            "clients": args.clients,
            "requests_per_client": args.requests,
            "n": n_total,
            "wall_seconds": wall,
            "throughput_rps": len(latencies) / wall,
            # Each failed request (no answer, non-200, different answer) is
            # listed once in errors.
            "errors": len(errors),
            "n_equal": n_total - len(errors),
            "error_samples": errors[:10],
        },
        "screenshot": shot,
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "serve.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.output_dir / "serve.md").write_text(_markdown(report))
    c = report["concurrent"]
    print(
        f"p50 {c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.1f} ms, "
        f"{c['throughput_rps']:.1f} req/s, {c['errors']} errors; wrote "
        f"{args.output_dir / 'serve.md'}"
    )
    return 1 if c["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
