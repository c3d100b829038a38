"""The subcommands of ``skanime``: one function of the parsed arguments each.

Each ``*_command(args, progress)`` returns the exit status; user mistakes
raise :class:`~skanime._cli_output.UsageError`. Results go to stdout,
progress through ``progress`` to stderr.
"""

import os
import sys
import time

import numpy as np

from ._cli_data import (
    check_output_path,
    check_trainable,
    genre_lists,
    load_data,
    log_loaded,
    sample_subset,
)
from ._cli_models import (
    cross_validated_report,
    default_pipeline,
    fit_estimator,
    load_model_file,
    new_classifier,
    save_model_file,
)
from ._cli_output import UsageError, one_line, print_json

#: A paraphrase of the premise of Bakemonogatari (MAL id 5081), the synopsis
#: the seed report predicted genres for.
BAKEMONOGATARI_SYNOPSIS = (
    "Koyomi Araragi, a third-year high school student, has just gone back to "
    "an ordinary life after surviving a vampire attack during spring break, "
    "though his body still heals far faster than a human's should. One day "
    "on the school stairs he catches Hitagi Senjougahara, an aloof classmate "
    "who slips and falls into his arms, and finds that she weighs almost "
    "nothing: a crab oddity has taken her weight. Ignoring her threats, "
    "Araragi asks Meme Oshino, the strange expert who once saved him, for "
    "help. Soon he is drawn into the troubles of other girls around him, "
    "each haunted by an apparition of her own: a lost girl who can never "
    "reach home, a junior bound to a monkey's paw, a childhood friend cursed "
    "by a snake and a class president whose perfect smile hides a cat."
)
BAKEMONOGATARI_TITLE = "Bakemonogatari"


def quick_look(X, Y, names, progress, k=5):
    """Rank Bakemonogatari's genres with a model that trains in seconds.

    TF-IDF with one-vs-rest logistic regression: a first result to read
    while the default model is cross-validated.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from threadpoolctl import threadpool_limits

    Y = np.asarray(Y)
    learnable = Y.any(axis=0) & ~Y.all(axis=0)
    if not learnable.any():
        return
    started = time.perf_counter()
    quick = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english"),
        OneVsRestClassifier(
            LogisticRegression(C=10, solver="liblinear", class_weight="balanced")
        ),
    )
    try:
        # One BLAS thread: spinning BLAS threads on a busy machine make these
        # small problems several times slower.
        with threadpool_limits(limits=1, user_api="blas"):
            quick.fit(list(X), Y[:, learnable])
    except ValueError:  # e.g. too few documents for min_df=2
        return
    scores = quick.predict_proba([BAKEMONOGATARI_SYNOPSIS])[0]
    ranked = np.asarray(names, dtype=object)[learnable][np.argsort(-scores)[:k]]
    progress.result(
        f"Quick look (TF-IDF + logistic regression, trained in "
        f"{time.perf_counter() - started:.0f} s), Bakemonogatari's most likely "
        f"genres: {', '.join(map(str, ranked))}\n"
        "  the default model is cross-validated next; its first fold shows how "
        "long the rest takes\n"
    )


def build_dataset_command(args, progress):
    """``skanime build-dataset``: parse saved pages into a dataset."""
    from .datasets import build_dataset

    if not os.path.exists(args.source):
        raise UsageError(f"source {args.source} does not exist")
    check_output_path(args.output)
    if args.rejects is not None:
        check_output_path(args.rejects)
    with progress.stage(f"reading pages from {args.source}", "read the pages"):
        try:
            report = build_dataset(args.source, args.output, rejects_csv=args.rejects)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot build a dataset: {one_line(exc)}") from None
    print(
        f"{report.n_inputs} inputs: {report.n_written} anime written to "
        f"{report.out_csv or args.output}, {report.n_rejected} rejected"
        + (f" (listed in {report.rejects_csv})" if report.rejects_csv else "")
    )
    reasons = sorted(report.reasons.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(str(count)) for _, count in reasons), default=1)
    for reason, count in reasons:
        print(f"  {count:>{width}}  {reason}")
    return 0


def train_command(args, progress):
    """``skanime train``: train the default model and save it."""
    check_output_path(args.output, inputs=[args.data])
    model = new_classifier(args.param, args.seed)
    bunch = load_data(args.data, progress)
    names = np.asarray(bunch.target_names, dtype=object)
    X = np.asarray(bunch.data, dtype=object)
    check_trainable(bunch.target, names, args.data)
    with progress.stage(f"training on {len(X)} anime", "training"):
        fit_estimator(model, X, genre_lists(bunch.target, names), args.data)
    save_model_file(model, args.output, progress)
    if not args.quiet:
        print(f"saved a model of {len(model.classes_)} genres to {args.output}")
    return 0


def evaluate_command(args, progress):
    """``skanime evaluate``: the cross-validated report."""
    default_pipeline(args.param, args.seed)
    bunch = load_data(args.data, progress)
    X, Y, names = sample_subset(bunch, args.subset, args.seed, progress)
    check_trainable(Y, names, args.data, n_splits=args.cv)
    report = cross_validated_report(X, Y, names, args, progress, output_dict=args.json)
    if args.json:
        print_json(
            {
                "n_anime": len(X),
                "n_genres": len(names),
                "cv": args.cv,
                "seed": args.seed,
                **report,
            }
        )
    else:
        print(report)
    return 0


def read_stdin_lines():
    """The non-blank lines of stdin, stripped."""
    return [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]


def predict_command(args, progress):
    """``skanime predict``: the genres (or top genres) of synopses."""
    model = load_model_file(args.model)
    texts = []
    for text in args.texts:
        texts.extend(read_stdin_lines() if text == "-" else [text])
    if not texts:
        raise UsageError("no synopsis given: pass TEXT arguments, or - to read stdin")
    predicted = model.predict(texts)
    top = model.top_genres(texts, k=args.top_k) if args.top_k else None
    if args.json:
        rows = []
        for i, text in enumerate(texts):
            row = {"text": text, "genres": predicted[i]}
            if top is not None:
                row["top"] = [{"genre": g, "probability": p} for g, p in top[i]]
            rows.append(row)
        print_json(rows)
        return 0
    for i in range(len(texts)):
        if top is not None:
            print(", ".join(f"{g} {p:.3f}" for g, p in top[i]))
        else:
            print(", ".join(predicted[i]) if predicted[i] else "(no genre)")
    return 0


def explain_command(args, progress):
    """``skanime explain``: word contributions to genres."""
    model = load_model_file(args.model)
    text = sys.stdin.read().strip() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("the synopsis to explain is empty")
    try:
        explanation = model.explain(
            text,
            genre=args.genre,
            top_n=args.top_n,
            method=args.method,
            n_steps=args.steps,
        )
    except (ValueError, NotImplementedError) as exc:
        raise UsageError(one_line(exc)) from None
    if args.json:
        print_json(explanation.to_dict())
    else:
        print(explanation)
    return 0


def demo_command(args, progress):
    """``skanime demo``: the default dataset, model and Bakemonogatari."""
    from .datasets import fetch_mal_anime

    if args.cv == 1 or args.cv < 0:
        raise UsageError(
            f"--cv must be 0 (no cross-validation) or at least 2, got {args.cv}"
        )
    if args.output is not None:
        from .datasets._fetch import CANDIDATE_FILES, get_data_home

        home = get_data_home()
        check_output_path(
            args.output, inputs=[os.path.join(home, name) for name in CANDIDATE_FILES]
        )
    model = new_classifier(args.param, args.seed)
    with progress.stage("loading the default dataset", "loading"):
        try:
            bunch = fetch_mal_anime()
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"cannot load the default dataset: {one_line(exc)} Set "
                "SKANIME_DATA_HOME to a folder holding mal_anime_2021.jsonl or "
                "anime.csv"
            ) from None
    log_loaded(bunch, getattr(bunch, "filename", "the default dataset"), progress)
    X, Y, names = sample_subset(bunch, args.subset, args.seed, progress)

    if args.cv:
        quick_look(X, Y, names, progress)
        report = cross_validated_report(X, Y, names, args, progress, first_fold=True)
        print(f"Cross-validated genre prediction ({args.cv} folds, {len(X)} anime)")
        print(report)
        print()

    with progress.stage(f"training on {len(X)} anime", "training"):
        fit_estimator(model, X, genre_lists(Y, names), "the default dataset")
    proba = model.predict_proba([BAKEMONOGATARI_SYNOPSIS]).iloc[0]
    predicted = model.predict([BAKEMONOGATARI_SYNOPSIS])[0]
    print("Bakemonogatari (a paraphrase of its premise):")
    print(f"  predicted genres: {', '.join(predicted) or '(none)'}")
    frame = getattr(bunch, "frame", None)
    if frame is not None and "name" in frame:
        listed = frame.loc[frame["name"] == BAKEMONOGATARI_TITLE, "genres"]
        if len(listed):
            print(f"  MyAnimeList genres: {', '.join(listed.iloc[0])}")
    print("  most probable:")
    for genre, p in proba.sort_values(ascending=False).head(5).items():
        print(f"    {p:6.3f}  {genre}")
    if args.output is not None:
        save_model_file(model, args.output, progress)
        print(f"saved the model to {args.output}")
    return 0


def serve_command(args, progress):
    """``skanime serve``: the web page and JSON API over a model."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"skanime serve needs the 'serve' extra ({exc.name} is not installed): "
            "pip install 'skanime[serve]'"
        ) from None
    from ._serve import create_app, model_info, serve

    model = load_model_file(args.model)
    app = create_app(model, model_info=model_info(args.model))
    if not args.quiet:
        print(
            f"serving {len(model.classes_)} genres from {args.model} on "
            f"http://{args.host}:{args.port} (Ctrl+C stops)",
            flush=True,
        )
    log_level = "warning" if args.quiet else "info"
    serve(app, host=args.host, port=args.port, log_level=log_level)
    return 0
