"""Speed and scale of skanime on the MAL-2021 synopses.

One command regenerates ``benchmarks/results/speed.md`` and ``speed.json``::

    SKANIME_DATA_HOME=../shared/data python benchmarks/speed.py

and ``--quick`` runs every measurement on a small corpus as a smoke test
(about a minute; results go to a temporary folder unless ``--output-dir`` is
given). The full run takes about ten minutes on two cores.

Every target is a ratio, or a figure read next to its reference, measured in
one run: the contenders are timed in alternation (round robin, the order
rotating each round) and each figure is the median over the rounds, so that
other programs sharing the machine slow both sides alike. BLAS runs on one
thread (``--threads``) in this process and in the scaling subprocesses:
OpenBLAS threads that spin while other programs hold the cores make small
matrix products up to ten times slower, which would measure the neighbours.

Measurements
------------
transform
    ``TfidfWeightedW2VTransformer.transform`` against ``TfidfVectorizer``
    with the same vocabulary on the same synopses, and against the
    per-document Python loop most word-embedding transformers use.
epoch
    ``FocalMLPClassifier.fit`` against ``MLPClassifier.fit`` per epoch, same
    hidden layer, batch size, epochs and data.
predict
    The default genre model (``make_genre_pipeline``), fitted on MAL-2021,
    predicting one synopsis and all of them.
scaling
    Fit and transform time and peak memory of the default model at 1x, 4x
    and 16x the corpus, each size in its own subprocess.
components
    Each optimised routine against the plain implementation it replaces.
profiles
    pyinstrument profiles of the hot paths (when pyinstrument is installed,
    ``pip install -e .[benchmark]``).
"""

import argparse
import functools
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import MultiLabelBinarizer, StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

import skanime
from skanime import FocalMLPClassifier, TfidfWeightedW2VTransformer, make_genre_pipeline

# The plain routines the fast paths are compared with, shared with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import _reference  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA_FILE = "mal_anime_2021.jsonl"
DEFAULT_DATA_HOME = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results"

TARGETS = {
    "transform_vs_tfidf": ("<=", 1.3),
    "epoch_vs_sklearn": ("<=", 0.6),
    "predict_one_ms": ("<=", 5.0),
    "predict_batch_per_s": (">=", 5000.0),
    "fit_growth_exponent": ("<=", 1.1),
    "transform_growth_exponent": ("<=", 1.1),
    "peak_memory_16x_gb": ("<", 2.0),
}

# Prediction is timed on a model of the default structure and sizes (same
# vocabularies, layers and members) trained for less long: its predictions
# cost the same, and the default training would take most of the budget.
# Parameters a future default lacks are ignored (see ``applicable``).
PREDICT_FIT_PARAMS = {
    "embed__epochs": 1,
    "clf__max_iter": 3,
    "linear__logreg__estimator__max_iter": 5,
}
# The model of the scaling runs: the default with a fixed amount of training
# per synopsis (word2vec epochs, MLP epochs without early stopping, solver
# iterations), so that fit time measures the growth of the work and not of
# the epochs chosen by early stopping; and two ensemble members instead of
# five, to keep the 16x run within minutes.
SCALING_PARAMS = {
    "embed__epochs": 1,
    "clf__max_iter": 2,
    "clf__early_stopping": False,
    "clf__tol": 0.0,
    "clf__n_iter_no_change": 1000,
    "linear__logreg__estimator__max_iter": 5,
    "n_estimators": 2,
}
QUICK_PIPELINE_PARAMS = {"embed__epochs": 1, "clf__max_iter": 2}


# ---------------------------------------------------------------- helpers
def load_mal(data_home, n_documents=None):
    """Synopses and genre lists of MAL-2021 (records without genres kept)."""
    documents, genres = [], []
    with open(Path(data_home) / DATA_FILE, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            documents.append(record.get("synopsis") or "")
            genres.append([g["name"] for g in record.get("genres") or []])
    if n_documents is not None:
        documents, genres = documents[:n_documents], genres[:n_documents]
    return documents, genres


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def grow_corpus(documents, genres, factor, seed):
    """Resample ``factor`` times as many synopses, shuffling their sentences."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(documents), size=int(round(factor * len(documents))))
    grown = []
    for i in picks:
        sentences = _SENTENCE_END.split(documents[i])
        order = rng.permutation(len(sentences))
        grown.append(" ".join(sentences[j] for j in order))
    return grown, [genres[i] for i in picks]


def interleaved(contenders, rounds):
    """Time each callable once per round, rotating the order; lists of seconds."""
    names = list(contenders)
    times = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median(values):
    return float(np.median(values))


def growth_exponent(sizes, seconds):
    """Slope of log(seconds) against log(size), least squares."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def git_commit():
    def run(*args):
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = run("rev-parse", "HEAD")
    changed = [line for line in run("status", "--porcelain").splitlines() if line]
    return commit or "unknown", len(changed)


def machine_facts(threads):
    commit, n_changed = git_commit()
    blas = [
        {k: info.get(k) for k in ("internal_api", "version", "num_threads",
                                  "threading_layer", "architecture")}
        for info in threadpool_info()
    ]
    try:
        import gensim

        gensim_version = gensim.__version__
    except ImportError:  # pragma: no cover
        gensim_version = None
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "load_average_start": list(os.getloadavg()),
        "memory_gb": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1
        ),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "gensim": gensim_version,
        "skanime": skanime.__version__,
        "commit": commit,
        "uncommitted_files": n_changed,
        "blas_threads_limit": threads,
        "threadpools": blas,
    }


def peak_rss_gb():
    """Peak resident memory of this process in GB.

    Linux's ``VmHWM`` belongs to the process's own address space, whereas
    ``ru_maxrss`` of a subprocess also counts its parent's memory at fork.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


# ---------------------------------------------------------------- transform
def model_part(model, name, fitted=False):
    """Step ``name`` of a Pipeline, or the parameter (or fitted attribute
    ``name_``) of another model such as ``EmbeddingBagClassifier``."""
    if hasattr(model, "named_steps"):
        return model.named_steps.get(name)
    if fitted:
        return getattr(model, name + "_", None)
    return model.get_params(deep=False).get(name)


def applicable(model, params):
    """The entries of ``params`` that ``model.set_params`` accepts."""
    names = model.get_params(deep=True)
    return {k: v for k, v in params.items() if k in names}


def feature_transform(model):
    """The fitted text-to-features part of ``model``: clean, then embed."""
    if hasattr(model, "steps"):
        return model[:-1].transform
    clean, embed = model_part(model, "clean", True), model_part(model, "embed", True)
    if embed is None:
        return None

    def transform(documents):
        if clean is not None:
            documents = clean.transform(documents)
        return embed.transform(documents)

    return transform


def embedding_settings():
    """The TF-IDF settings of the default model's ``embed`` step."""
    embed = model_part(make_genre_pipeline(), "embed")
    keys = ("lowercase", "token_pattern", "stop_words", "use_idf", "smooth_idf",
            "sublinear_tf", "norm", "vector_size")
    return {key: getattr(embed, key) for key in keys}


def bench_transform(documents, rounds, loop_rounds):
    settings = embedding_settings()
    vector_size = settings.pop("vector_size")
    counter = TfidfVectorizer(**{k: v for k, v in settings.items() if k != "norm"})
    counter.fit(documents)
    rng = np.random.default_rng(0)
    vectors = {
        word: rng.standard_normal(vector_size).astype(np.float32)
        for word in counter.get_feature_names_out()
    }
    transformer = TfidfWeightedW2VTransformer(vectors=vectors, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # documents without words
        transformer.fit(documents)
        tfidf = TfidfVectorizer(
            vocabulary=transformer.vocabulary_,
            dtype=np.float32,
            **{k: v for k, v in settings.items() if k != "norm"},
            norm=None,
        ).fit(documents)
        times = interleaved(
            {
                "skanime": lambda: transformer.transform(documents),
                "tfidf": lambda: tfidf.transform(documents),
            },
            rounds,
        )
        loop_times = interleaved(
            {"loop": lambda: _reference.per_document_loop(transformer, documents)},
            loop_rounds,
        )
        X = transformer.transform(documents)
        loop_X = _reference.per_document_loop(transformer, documents)
        difference = float(np.abs(X - loop_X).max())
    ours, theirs, loop = (median(times["skanime"]), median(times["tfidf"]),
                          median(loop_times["loop"]))
    return {
        "n_documents": len(documents),
        "vocabulary_size": len(transformer.vocabulary_),
        "vector_size": vector_size,
        "settings": {k: v for k, v in settings.items()},
        "skanime_s": ours,
        "tfidf_s": theirs,
        "loop_s": loop,
        "ratio_vs_tfidf": ours / theirs,
        "speedup_vs_loop": loop / ours,
        "max_abs_difference_vs_loop": difference,
        "rounds": rounds,
        "loop_rounds": loop_rounds,
        "all_seconds": {**times, **loop_times},
    }, X, transformer


# ---------------------------------------------------------------- epoch
def bench_epoch(X, Y, epochs, rounds):
    common = dict(
        hidden_layer_sizes=(256,),
        batch_size=200,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        alpha=1e-4,
        learning_rate_init=1e-3,
        shuffle=True,
        random_state=0,
    )
    models = {
        "skanime": lambda: FocalMLPClassifier(**common),
        "sklearn": lambda: MLPClassifier(solver="adam", **common),
    }
    fitted = {}

    def fit(name):
        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fitted[name] = models[name]().fit(X, Y)

        return run

    times = interleaved({name: fit(name) for name in models}, rounds)
    per_epoch = {name: [t / epochs for t in ts] for name, ts in times.items()}
    ours, theirs = median(per_epoch["skanime"]), median(per_epoch["sklearn"])
    return {
        "n_samples": X.shape[0],
        "n_features": X.shape[1],
        "n_labels": Y.shape[1],
        "dtype": str(X.dtype),
        "hidden_layer_sizes": [256],
        "batch_size": 200,
        "epochs": epochs,
        "epochs_run": {name: int(model.n_iter_) for name, model in fitted.items()},
        "skanime_s_per_epoch": ours,
        "sklearn_s_per_epoch": theirs,
        "ratio": ours / theirs,
        "rounds": rounds,
        "all_seconds_per_epoch": per_epoch,
    }


# ---------------------------------------------------------------- predict
def bench_predict(documents, Y, params, single_calls, rounds):
    pipeline = make_genre_pipeline(random_state=0)
    params = applicable(pipeline, params)
    pipeline.set_params(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)  # e.g. constant labels in a fold
        start = time.perf_counter()
        pipeline.fit(documents, Y)
        fit_s = time.perf_counter() - start

    single = []
    for i in range(single_calls):
        doc = [documents[i % len(documents)]]
        start = time.perf_counter()
        pipeline.predict(doc)
        single.append(time.perf_counter() - start)

    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        pipeline.predict(documents)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)

    steps = {}
    if hasattr(pipeline, "steps"):
        for _ in range(rounds):
            data = documents
            for name, step in pipeline.steps:
                start = time.perf_counter()
                if step is pipeline.steps[-1][1]:
                    step.predict(data)
                else:
                    data = step.transform(data)
                steps.setdefault(name, []).append(time.perf_counter() - start)
    return pipeline, {
        "model": type(pipeline).__name__,
        "pipeline": repr(pipeline),
        "extra_params": params,
        "n_documents": len(documents),
        "fit_s": fit_s,
        "single_calls": single_calls,
        "single_median_ms": 1e3 * median(single),
        "single_p90_ms": 1e3 * float(np.percentile(single, 90)),
        "batch_rounds": rounds,
        "batch_median_s": median(wall),
        "batch_per_s": len(documents) / median(wall),
        "batch_cpu_median_s": median(cpu),
        "batch_per_cpu_s": len(documents) / median(cpu),
        "batch_step_median_s": {name: median(ts) for name, ts in steps.items()},
    }


# ---------------------------------------------------------------- scaling
def _timed(fn):
    """``fn()``, its wall-clock and its CPU seconds."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - start, time.process_time() - start_cpu


def scaling_worker(args):
    """One size of the scaling benchmark, run in its own process."""
    with threadpool_limits(limits=args.threads):
        documents, genres = load_mal(args.data_home, args.base_documents)
        keep = [i for i, g in enumerate(genres) if g]
        documents = [documents[i] for i in keep]
        genres = [genres[i] for i in keep]
        documents, genres = grow_corpus(documents, genres, args.factor, seed=0)
        Y = MultiLabelBinarizer().fit_transform(genres)
        rss_data = peak_rss_gb()
        pipeline = make_genre_pipeline(random_state=0)
        params = applicable(pipeline, json.loads(args.params))
        pipeline.set_params(**params)
        steps = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)  # documents without words
            if hasattr(pipeline, "steps"):
                # Pipeline.fit, one step at a time to time each.
                data = documents
                for i, (name, step) in enumerate(pipeline.steps):
                    last = i == len(pipeline.steps) - 1
                    fit = step.fit if last else step.fit_transform
                    data, wall, cpu = _timed(functools.partial(fit, data, Y))
                    steps[name] = (wall, cpu)
                data = None
            else:
                _, wall, cpu = _timed(lambda: pipeline.fit(documents, Y))
                steps["all"] = (wall, cpu)
            rss_fit = peak_rss_gb()
            embed = model_part(pipeline, "embed", fitted=True)
            vocabulary_size = len(getattr(embed, "vocabulary_", ()))
            features = feature_transform(pipeline)
            transform = [_timed(lambda: features(documents))[1:]
                         for _ in range(args.repeats)]
            predict = [_timed(lambda: pipeline.predict(documents))[1:]]
    print(json.dumps({
        "factor": args.factor,
        "model": type(pipeline).__name__,
        "params": params,
        "n_documents": len(documents),
        "vocabulary_size": vocabulary_size,
        "fit_s": sum(wall for wall, _ in steps.values()),
        "fit_cpu_s": sum(cpu for _, cpu in steps.values()),
        "fit_step_s": {name: wall for name, (wall, _) in steps.items()},
        "transform_s": median([wall for wall, _ in transform]),
        "transform_cpu_s": median([cpu for _, cpu in transform]),
        "predict_s": median([wall for wall, _ in predict]),
        "predict_cpu_s": median([cpu for _, cpu in predict]),
        "peak_rss_after_data_gb": rss_data,
        "peak_rss_after_fit_gb": rss_fit,
        "peak_rss_gb": peak_rss_gb(),
    }))


def bench_scaling(args, factors, params, base_documents, repeats):
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads),
           "OPENBLAS_NUM_THREADS": str(args.threads), "PYTHONHASHSEED": "0"}
    runs = []
    for factor in factors:
        command = [
            sys.executable, __file__, "--scaling-worker", str(factor),
            "--data-home", str(args.data_home), "--threads", str(args.threads),
            "--params", json.dumps(params), "--repeats", str(repeats),
        ]
        if base_documents is not None:
            command += ["--base-documents", str(base_documents)]
        print(f"  scaling {factor}x ...", flush=True)
        done = subprocess.run(command, env=env, capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"scaling worker {factor}x failed:\n{done.stderr}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    sizes = [run["n_documents"] for run in runs]
    return {
        "params": runs[0]["params"],
        "model": runs[0]["model"],
        "repeats": repeats,
        "runs": runs,
        "fit_growth_exponent": growth_exponent(sizes, [r["fit_s"] for r in runs]),
        "transform_growth_exponent": growth_exponent(
            sizes, [r["transform_s"] for r in runs]
        ),
        "predict_growth_exponent": growth_exponent(
            sizes, [r["predict_s"] for r in runs]
        ),
        "fit_cpu_growth_exponent": growth_exponent(
            sizes, [r["fit_cpu_s"] for r in runs]
        ),
        "transform_cpu_growth_exponent": growth_exponent(
            sizes, [r["transform_cpu_s"] for r in runs]
        ),
        "peak_memory_largest_gb": runs[-1]["peak_rss_gb"],
    }


# ---------------------------------------------------------------- components
def bench_components(documents, rounds):
    """Each optimised routine against the plain one it replaced (seconds)."""
    from skanime import _embedding, _layers, _losses, _optimizers, _text

    rng = np.random.default_rng(0)
    z = rng.standard_normal((200, 43)).astype(np.float32)
    y = (rng.random((200, 43)) < 0.1).astype(np.float32)
    shapes = [(200, 256), (256, 43), (256,), (43,)]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    plain_params = [p.copy() for p in params]
    adam = _optimizers.AdamOptimizer(params)
    plain_adam = _optimizers.AdamOptimizer(plain_params)
    # A minibatch of 200 synopses of about 45 words over a 25,000-word
    # vocabulary, as in the default model's embedding layer.
    batch = scipy.sparse.random(200, 25000, density=45 / 25000, format="csr",
                                dtype=np.float32, random_state=0)
    grad_inputs = rng.standard_normal((200, 200)).astype(np.float32)
    embedding = rng.standard_normal((25000, 200)).astype(np.float32)
    plain_embedding = embedding.copy()
    rows, row_grads = _layers.embedding_row_gradients(batch, grad_inputs)
    row_adam = _optimizers.RowwiseAdamOptimizer(embedding, 0.03)
    plain_row_adam = _optimizers.RowwiseAdamOptimizer(plain_embedding, 0.03)
    n_rows = np.unique(batch.indices).size
    hidden = np.maximum(rng.standard_normal((200, 256)).astype(np.float32), 0)
    delta = rng.standard_normal((200, 256)).astype(np.float32)
    lowered = [doc.lower() for doc in documents]
    cleaned = list(_text.SynopsisCleaner(stop_words=None).transform(documents))
    default_pattern = re.compile(_text.TOKEN_PATTERN)

    def repeat(fn, n):
        def run():
            for _ in range(n):
                fn()

        return run

    cases = {
        "focal loss + gradient, 200x43 batch x100": (
            repeat(lambda: _reference.focal_loss_and_gradient(y, z, 2.0), 100),
            repeat(lambda: _losses.focal_loss_and_gradient(y, z, gamma=2.0), 100),
            "scipy log_expit/expit, 4 logistic calls",
            "numpy exp/log1p from one shared softplus",
        ),
        "Adam step, 256-unit layer x100": (
            repeat(lambda: _reference.adam_update_params(plain_adam, plain_params,
                                                         grads), 100),
            repeat(lambda: adam.update_params(params, grads), 100),
            "temporaries per operation, float64 step",
            "in place through one scratch array, float32",
        ),
        "embedding Adam step, one minibatch x10": (
            repeat(lambda: _reference.rowwise_adam_update_rows(
                plain_row_adam, plain_embedding, rows, row_grads.copy()), 10),
            repeat(lambda: row_adam.update_rows(embedding, rows, row_grads.copy()), 10),
            f"all {n_rows} rows x 200 at once",
            f"{row_adam.chunk_rows} rows at a time, in cache",
        ),
        "ReLU derivative, 200x256 x100": (
            repeat(lambda: _reference.relu_derivative(hidden, delta), 100),
            repeat(lambda: _layers.DERIVATIVES["relu"](hidden, delta), 100),
            "boolean-mask assignment",
            "multiply by the mask",
        ),
        "cleaner letter split, all synopses": (
            lambda: [_text.NON_LETTER_PATTERN.sub(" ", d).split() for d in lowered],
            lambda: [_text._letter_words(d) for d in lowered],
            "regex substitution + split",
            "str.translate (ASCII) or findall of letter runs",
        ),
        "default token pattern, cleaned synopses": (
            lambda: [default_pattern.findall(d) for d in cleaned],
            lambda: [_embedding._default_pattern_candidates(d, default_pattern.findall)
                     for d in cleaned],
            "regex findall",
            "str.translate + split on ASCII text (non-tokens miss the vocabulary)",
        ),
    }
    results = {}
    for name, (plain, fast, plain_how, fast_how) in cases.items():
        times = interleaved({"plain": plain, "fast": fast}, rounds)
        results[name] = {
            "plain_s": median(times["plain"]),
            "fast_s": median(times["fast"]),
            "speedup": median(times["plain"]) / median(times["fast"]),
            "plain": plain_how,
            "fast": fast_how,
        }
    return results


# ---------------------------------------------------------------- profiles
def profile(fn, interval=0.001, max_lines=28):
    """Text of a pyinstrument profile of ``fn()``, or None without it."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    profiler = Profiler(interval=interval)
    profiler.start()
    fn()
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    lines = [line.rstrip() for line in text.splitlines()]
    lines = [line for line in lines if line.strip()]
    start = next(
        (i for i, line in enumerate(lines) if line.startswith("Profile at")), 0
    )
    return "\n".join(lines[start + 1 : start + 1 + max_lines])


# ---------------------------------------------------------------- report
def check(name, value):
    op, bound = TARGETS[name]
    if op == "<=":
        met = value <= bound
    elif op == ">=":
        met = value >= bound
    else:
        met = value < bound
    return {"value": value, "target": f"{op} {bound:g}", "met": bool(met)}


def fmt(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def write_markdown(path, results):
    m, tr, ep, pr, sc = (results[k] for k in ("machine", "transform", "epoch",
                                              "predict", "scaling"))
    targets = results["targets"]

    def status(name):
        return "met" if targets[name]["met"] else "**missed**"

    command = "python benchmarks/speed.py" + (" --quick" if results["quick"] else "")
    tfidf_settings = ", ".join(
        f"{k}={v!r}" for k, v in tr["settings"].items() if k != "token_pattern"
    )

    lines = [
        "# Speed and scale",
        "",
        f"Generated by `{command}`"
        f" on {m['date']} (commit `{m['commit'][:12]}`, {m['uncommitted_files']} "
        "uncommitted files). "
        "Each contender is timed in alternation with its reference and each "
        "figure is a median over the rounds, so ratios hold on a shared machine "
        "even when absolute times do not.",
        "",
    ]
    if results["quick"]:
        lines += ["**Quick smoke run on a small corpus: the figures are not "
                  "the results.**", ""]
    lines += [
        "## Targets",
        "",
        "| Measure | Figure | Reference | Value | Target | Status |",
        "|---|---|---|---|---|---|",
        f"| transform vs TfidfVectorizer.transform | {fmt(tr['skanime_s'])} | "
        f"{fmt(tr['tfidf_s'])} | {tr['ratio_vs_tfidf']:.2f}x | <= 1.3x | "
        f"{status('transform_vs_tfidf')} |",
        f"| transform vs per-document loop (speed-up) | {fmt(tr['skanime_s'])} | "
        f"{fmt(tr['loop_s'])} | {tr['speedup_vs_loop']:.1f}x faster | report | - |",
        f"| FocalMLPClassifier vs MLPClassifier, per epoch | "
        f"{fmt(ep['skanime_s_per_epoch'])} | {fmt(ep['sklearn_s_per_epoch'])} | "
        f"{ep['ratio']:.2f}x | <= 0.6x | {status('epoch_vs_sklearn')} |",
        f"| predict one synopsis (median of {pr['single_calls']}) | "
        f"{pr['single_median_ms']:.2f} ms | - | {pr['single_median_ms']:.2f} ms | "
        f"<= 5 ms | {status('predict_one_ms')} |",
        f"| predict all {pr['n_documents']} synopses (wall clock) | "
        f"{fmt(pr['batch_median_s'])} | - | {pr['batch_per_s']:,.0f}/s | >= 5,000/s | "
        f"{status('predict_batch_per_s')} |",
        f"| same, per second of CPU time | {fmt(pr['batch_cpu_median_s'])} | - | "
        f"{pr['batch_per_cpu_s']:,.0f}/s | report | - |",
        f"| fit growth exponent, 1x to 16x | "
        f"{fmt(sc['runs'][-1]['fit_s'])} | {fmt(sc['runs'][0]['fit_s'])} | "
        f"{sc['fit_growth_exponent']:.2f} | <= 1.1 | {status('fit_growth_exponent')} |",
        f"| transform growth exponent, 1x to 16x | "
        f"{fmt(sc['runs'][-1]['transform_s'])} | {fmt(sc['runs'][0]['transform_s'])} | "
        f"{sc['transform_growth_exponent']:.2f} | <= 1.1 | "
        f"{status('transform_growth_exponent')} |",
        f"| peak memory at {sc['runs'][-1]['factor']:g}x | "
        f"{sc['peak_memory_largest_gb']:.2f} GB | - | "
        f"{sc['peak_memory_largest_gb']:.2f} GB | < 2 GB | "
        f"{status('peak_memory_16x_gb')} |",
        "",
        "## Machine",
        "",
        f"- {m['platform']}, {m['processor']}, {m['cpu_count']} cores "
        f"({m['usable_cores']} usable), {m['memory_gb']} GB; load average "
        f"{m['load_average_start'][0]:.1f} at the start and "
        f"{m['load_average_end'][0]:.1f} at the end (other programs share the "
        "machine, so wall-clock figures are slower than on an idle one).",
        f"- Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, "
        f"scikit-learn {m['scikit-learn']}, gensim {m['gensim']}, "
        f"skanime {m['skanime']}.",
        f"- BLAS limited to {m['blas_threads_limit']} thread(s): "
        + "; ".join(
            f"{t['internal_api']} {t['version'] or ''} ({t['architecture'] or '-'}, "
            f"{t['threading_layer'] or '-'})".replace("  ", " ")
            for t in m["threadpools"]
        )
        + ".",
        f"- Whole run: {results['elapsed_s'] / 60:.1f} minutes.",
        "",
        "## Transform",
        "",
        f"{tr['n_documents']} raw MAL-2021 synopses, the default model's "
        f"TF-IDF settings ({tfidf_settings}), "
        f"random {tr['vector_size']}-d vectors over the {tr['vocabulary_size']} "
        "words of the fitted vocabulary. The reference is `TfidfVectorizer` "
        "with `vocabulary=transformer.vocabulary_`; the loop tokenises each "
        "document, counts its words and averages their vectors weighted by "
        "TF-IDF one word at a time. Medians of "
        f"{tr['rounds']} (loop: {tr['loop_rounds']}) interleaved rounds; the "
        f"loop's output differs from `transform` by at most "
        f"{tr['max_abs_difference_vs_loop']:.1e}.",
        "",
        "| | time |",
        "|---|---|",
        f"| TfidfWeightedW2VTransformer.transform | {fmt(tr['skanime_s'])} |",
        f"| TfidfVectorizer.transform (same vocabulary) | {fmt(tr['tfidf_s'])} |",
        f"| per-document loop | {fmt(tr['loop_s'])} |",
        "",
        "## Training epoch",
        "",
        f"{ep['n_samples']} x {ep['n_features']} {ep['dtype']} features (the "
        "standardised TF-IDF-W2V features above) and the "
        f"{ep['n_labels']} MAL genres; hidden layer (256,), batch size 200, Adam, "
        f"alpha=1e-4, {ep['epochs']} epochs for both (`max_iter={ep['epochs']}`, "
        "`tol=0`, epochs run: "
        + ", ".join(f"{k} {v}" for k, v in ep["epochs_run"].items())
        + f"). Seconds per epoch are fit time / epochs, medians of {ep['rounds']} "
        "interleaved fits. MLPClassifier keeps float32 input in float32, so "
        "both work in float32.",
        "",
        "| | s/epoch |",
        "|---|---|",
        f"| FocalMLPClassifier | {ep['skanime_s_per_epoch']:.4f} |",
        f"| MLPClassifier | {ep['sklearn_s_per_epoch']:.4f} |",
        "",
        "## Prediction",
        "",
        "The default model, a `" + pr["model"] + "`, trained for less long "
        "(`make_genre_pipeline(random_state=0"
        + "".join(f", {k}={v!r}" for k, v in pr["extra_params"].items())
        + ")`: the same vocabularies, layers and ensemble members, so a "
        "prediction costs what it costs with the default training), fitted on "
        f"the {pr['n_documents']} synopses with genres in "
        f"{pr['fit_s']:.0f} s. One synopsis: median {pr['single_median_ms']:.2f} ms, "
        f"90th percentile {pr['single_p90_ms']:.2f} ms over {pr['single_calls']} "
        f"calls. All synopses: median of {pr['batch_rounds']} calls"
        + (". Time per step on the whole batch:" if pr["batch_step_median_s"]
           else "; the profile below splits the time."),
    ]
    if pr["batch_step_median_s"]:
        lines += ["", "| step | time |", "|---|---|"]
        lines += [
            f"| {name} | {fmt(s)} |" for name, s in pr["batch_step_median_s"].items()
        ]
    lines += [
        "",
        "## Scaling",
        "",
        "The corpus grows by resampling MAL-2021 synopses (with genres) and "
        "shuffling their sentences (seed 0); each size runs in a fresh "
        f"subprocess. The model is the default `{sc['model']}` with a fixed "
        "amount of training per synopsis, so that time follows the data and "
        "not early stopping: `"
        + ", ".join(f"{k}={v!r}" for k, v in sc["params"].items())
        + "`. Transform is the fitted cleaning and embedding (`clean`, then "
        "`embed.transform`; and `scale` in a Pipeline); predict is the whole "
        f"model. Transform is the median of {sc['repeats']} calls, fit and "
        "predict are timed once. CPU seconds count every "
        "thread of the process. Peak memory is the peak resident set of the "
        "subprocess (`VmHWM`), interpreter and data included; 'after loading' "
        "is the peak before fitting.",
        "",
        "| size | synopses | words with a vector | fit (CPU) | transform (CPU) "
        "| predict | peak memory | after loading |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['factor']:g}x | {r['n_documents']} | {r['vocabulary_size']} | "
        f"{fmt(r['fit_s'])} "
        f"({fmt(r['fit_cpu_s'])}) | {fmt(r['transform_s'])} "
        f"({fmt(r['transform_cpu_s'])}) | {fmt(r['predict_s'])} | "
        f"{r['peak_rss_gb']:.2f} GB | {r['peak_rss_after_data_gb']:.2f} GB |"
        for r in sc["runs"]
    ]
    step_names = list(sc["runs"][0]["fit_step_s"])
    if len(step_names) > 1:
        lines += [
            "",
            "Fit time per step (wall clock):",
            "",
            "| size | " + " | ".join(step_names) + " |",
            "|---|" + "---|" * len(step_names),
        ]
        lines += [
            f"| {r['factor']:g}x | "
            + " | ".join(fmt(r["fit_step_s"][name]) for name in step_names) + " |"
            for r in sc["runs"]
        ]
    first, last = sc["runs"][0], sc["runs"][-1]
    if last["vocabulary_size"] > first["vocabulary_size"]:
        lines += [
            "",
            f"The vocabulary grows from {first['vocabulary_size']} to "
            f"{last['vocabulary_size']} words: word2vec keeps the words seen at "
            "least `min_count=2` times, and resampling brings more rare words to "
            "that count in a larger corpus. More tokens of each synopsis then "
            "have a vector, so transform does a little more work per synopsis "
            "as the corpus grows.",
        ]
    lines += [
        "",
        f"Growth exponents (log-log slope over the three sizes): fit "
        f"{sc['fit_growth_exponent']:.2f} (CPU time "
        f"{sc['fit_cpu_growth_exponent']:.2f}), transform "
        f"{sc['transform_growth_exponent']:.2f} (CPU time "
        f"{sc['transform_cpu_growth_exponent']:.2f}), predict "
        f"{sc['predict_growth_exponent']:.2f}.",
        "",
        "## Optimised routines against the plain ones",
        "",
        "The routines the profiles below point at, each timed against the plain "
        "implementation it replaced (medians of interleaved rounds; "
        "`tests/test_speed_paths.py` checks that both give the same result).",
        "",
        "| routine | plain | fast | speed-up | plain way | fast way |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {fmt(c['plain_s'])} | {fmt(c['fast_s'])} | {c['speedup']:.1f}x | "
        f"{c['plain']} | {c['fast']} |"
        for name, c in results["components"].items()
    ]
    lines += ["", "## Profiles", ""]
    lines += results.get("analysis", [])
    for name, text in results["profiles"].items():
        if text:
            lines += ["", f"### Now: {name}", "", "```", text, "```"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


ANALYSIS = [
    "What pyinstrument showed on the code before the optimisations (same "
    "machine, one BLAS thread; these figures cannot be regenerated, the "
    "profiles of the current code follow), and what changed. The table above "
    "times each change against the code it replaced.",
    "",
    "- **Training epoch** (FocalMLPClassifier 0.20 s/epoch against "
    "MLPClassifier 0.22 s, ratio 0.8 to 1.0 over three rounds). The five "
    "matrix products of a minibatch were about 60% of the time and are the "
    "floor both MLPs share (0.07 s/epoch timed alone). The focal loss took "
    "16%: four scipy logistic calls (`log_expit` twice, `expit` twice) cost "
    "about 1.2 ms per 200 x 43 batch, now one `exp` and one `log1p` shared "
    "by both log-probabilities. The ReLU derivative's boolean-mask assignment "
    "(`delta[a <= 0] = 0`) took 0.2 to 0.4 ms per batch, ten times a multiply "
    "by the mask. Adam allocated eight temporary arrays per parameter and, because "
    "its bias-corrected step size was a numpy float64 scalar, computed every "
    "step in float64 and cast it back; it now updates in place through one "
    "scratch array in float32.",
    "- **Transform** (1.1x `TfidfVectorizer.transform`, which it called). "
    "`TfidfVectorizer.transform` spent 45% in the token regular expression, "
    "30% in `_count_vocab`'s Python loop over every token and 8% removing "
    "stop words. The transformer now tokenises a chunk of documents and "
    "looks up, counts and weights all its tokens in numpy, skips the "
    "stop-word pass (the vocabulary holds no stop word) and splits ASCII "
    "text for the default token pattern with `str.translate`. Its weights "
    "equal `TfidfVectorizer`'s bit for bit.",
    "- **Batch prediction** (about 1.1 s of CPU for the 9,517 synopses, 8,000 "
    "per CPU second; 3,200 to 4,000 per second of wall clock on the loaded "
    "machine). The embedding step took half (the token regular expression "
    "20%, the per-token counting loop 15%, stop words 5%), the cleaner a "
    "third, 60% of it the `[\\W\\d_]+` substitution and split, now "
    "`str.translate` on ASCII text. The classifier took under 10%.",
    "- **One synopsis** (1.2 ms): the fixed cost of each of the four "
    "steps, chiefly scikit-learn's input validation and building small "
    "sparse matrices; the cleaner was under 0.1 ms of it, so it was left "
    "as it is.",
    "",
    "Those figures are for the four-step Pipeline (clean, embed, scale, "
    "FocalMLPClassifier) that was the default model then. The default has "
    "since become the model named under Prediction, whose networks fine-tune "
    "the word vectors:",
    "",
    "- **Training the fine-tuned embedding** (the `embedding_init` layer of "
    "FocalMLPClassifier, added while this work was under way). Its lazy Adam "
    "step was about two thirds of a training epoch: a minibatch touches some "
    "4,700 of the embedding's rows, and the update streamed these 4,700 x "
    "200 values through memory a dozen times. It now updates 256 rows at a "
    "time, which stay in cache through the whole update (1.45x on the step, "
    "about 17% of an epoch).",
    "",
    "The profiles below are of the current code and the current default.",
]


# ---------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run on a small corpus")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="where to write speed.md and speed.json")
    parser.add_argument("--data-home", type=Path,
                        default=Path(os.environ.get("SKANIME_DATA_HOME",
                                                    DEFAULT_DATA_HOME)))
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads (default 1)")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--scaling-worker", type=float, default=None,
                        help=argparse.SUPPRESS)
    parser.add_argument("--base-documents", type=int, default=None,
                        help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scaling_worker is not None:
        args.factor = args.scaling_worker
        scaling_worker(args)
        return 0

    if not (args.data_home / DATA_FILE).is_file():
        parser.error(f"{args.data_home / DATA_FILE} not found; set SKANIME_DATA_HOME "
                     "or pass --data-home")
    if args.output_dir is None:
        args.output_dir = (Path(tempfile.mkdtemp(prefix="skanime-speed-"))
                           if args.quick else RESULTS)
    args.output_dir.mkdir(parents=True, exist_ok=True)

    quick = args.quick
    started = time.perf_counter()
    with threadpool_limits(limits=args.threads):
        machine = machine_facts(args.threads)
        documents, genres = load_mal(args.data_home, 1500 if quick else None)
        Y_all = MultiLabelBinarizer().fit_transform(genres)

        print("transform ...", flush=True)
        transform, X_embed, transformer = bench_transform(
            documents, rounds=3 if quick else 7, loop_rounds=1 if quick else 3
        )

        print("training epoch ...", flush=True)
        X = StandardScaler().fit_transform(X_embed).astype(np.float32)
        epoch = bench_epoch(X, Y_all, epochs=2 if quick else 10,
                            rounds=2 if quick else 5)

        print("components ...", flush=True)
        components = bench_components(documents, rounds=2 if quick else 15)

        print("prediction (fits the default model) ...", flush=True)
        labelled = [i for i, g in enumerate(genres) if g]
        docs_labelled = [documents[i] for i in labelled]
        Y_labelled = MultiLabelBinarizer().fit_transform([genres[i] for i in labelled])
        pipeline, predict = bench_predict(
            docs_labelled, Y_labelled,
            {**PREDICT_FIT_PARAMS, **(QUICK_PIPELINE_PARAMS if quick else {})},
            single_calls=20 if quick else 200, rounds=2 if quick else 5,
        )

        profiles = {}
        if not args.no_profile:
            print("profiles ...", flush=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                profiles["FocalMLPClassifier.fit, 3 epochs"] = profile(
                    lambda: FocalMLPClassifier(
                        (256,), batch_size=200, max_iter=3, random_state=0
                    ).fit(X, Y_all),
                    interval=0.0005,
                )
            profiles["TfidfWeightedW2VTransformer.transform, raw synopses"] = profile(
                lambda: transformer.transform(documents)
            )
            profiles[f"{type(pipeline).__name__}.predict, all synopses"] = profile(
                lambda: pipeline.predict(docs_labelled)
            )
            profiles[f"{type(pipeline).__name__}.predict, one synopsis, 100 calls"] = (
                profile(
                    lambda: [pipeline.predict([doc]) for doc in docs_labelled[:100]],
                    interval=0.0002,
                )
            )

    print("scaling (one subprocess per size) ...", flush=True)
    scaling = bench_scaling(
        args,
        factors=[1, 4, 16],
        params={**SCALING_PARAMS, **(QUICK_PIPELINE_PARAMS if quick else {})},
        base_documents=300 if quick else None,
        repeats=1 if quick else 3,
    )

    machine["load_average_end"] = list(os.getloadavg())
    results = {
        "quick": quick,
        "machine": machine,
        "transform": transform,
        "epoch": epoch,
        "predict": predict,
        "scaling": scaling,
        "components": components,
        "profiles": profiles,
        "analysis": ANALYSIS,
        "elapsed_s": time.perf_counter() - started,
    }
    results["targets"] = {
        "transform_vs_tfidf": check("transform_vs_tfidf", transform["ratio_vs_tfidf"]),
        "epoch_vs_sklearn": check("epoch_vs_sklearn", epoch["ratio"]),
        "predict_one_ms": check("predict_one_ms", predict["single_median_ms"]),
        "predict_batch_per_s": check("predict_batch_per_s", predict["batch_per_s"]),
        "fit_growth_exponent": check("fit_growth_exponent",
                                     scaling["fit_growth_exponent"]),
        "transform_growth_exponent": check("transform_growth_exponent",
                                           scaling["transform_growth_exponent"]),
        "peak_memory_16x_gb": check("peak_memory_16x_gb",
                                    scaling["peak_memory_largest_gb"]),
    }
    json_path = args.output_dir / "speed.json"
    md_path = args.output_dir / "speed.md"
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n",
                         encoding="utf-8")
    write_markdown(md_path, results)
    print(f"wrote {md_path} and {json_path} in {results['elapsed_s'] / 60:.1f} min")
    for name, target in results["targets"].items():
        print(f"  {name:28s} {target['value']:10.3f}  target {target['target']:8s}"
              f"  {'met' if target['met'] else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
