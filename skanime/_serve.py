"""``skanime serve``: a web page and a JSON API over a saved genre model.

Built on Starlette (the ASGI toolkit) and served by uvicorn; both come with
the ``serve`` extra (``pip install "skanime[serve]"``). Requests are checked
by hand against a small, stated set of limits, so every bad request gets a
4xx JSON error that says what was wrong, and no request can take the server
down.

Routes
------
``GET /``
    The page: paste a synopsis, predict its genres, see which words drove
    each predicted genre.
``GET /health``
    ``{"status": "ok", "version", "model", "genres", "limits"}``.
``POST /predict``
    ``{"synopses": [str, ...], "k": 5}`` -> ``{"k", "genres", "thresholds",
    "results": [{"genres", "top", "probabilities"}, ...]}``; all synopses go
    to the model in one call.
``POST /explain``
    ``{"synopsis": str, "genres": [str, ...] or null, "top_n": 8}`` -> the
    :meth:`skanime.GenreClassifier.explain` contributions as JSON.
"""

import contextlib
import hashlib
import json
import logging
import os
import socket
import threading
from importlib import resources

import numpy as np

from ._jsonable import jsonable
from ._version import __version__

__all__ = ["Limits", "create_app", "load_app", "model_info", "running_server", "serve"]

logger = logging.getLogger(__name__)

_STATIC_FILES = {
    "/": ("serve.html", "text/html; charset=utf-8"),
    "/static/serve.js": ("serve.js", "text/javascript; charset=utf-8"),
    "/static/serve.css": ("serve.css", "text/css; charset=utf-8"),
}
# The page loads nothing from elsewhere, so the browser may refuse anything else.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


class Limits:
    """Request limits of the server.

    Parameters
    ----------
    max_body_bytes : int, default=262144
        Largest accepted request body (256 KiB); larger ones get 413.
    max_synopses : int, default=64
        Most synopses in one ``/predict`` request; more get 413.
    max_chars : int, default=20000
        Longest accepted synopsis, in characters; longer ones get 422.
    max_top_n : int, default=30
        Most words per genre that ``/explain`` returns.

    Examples
    --------
    >>> from skanime._serve import Limits
    >>> Limits(max_synopses=8).as_dict()["max_synopses"]
    8
    """

    def __init__(
        self, *, max_body_bytes=262144, max_synopses=64, max_chars=20000, max_top_n=30
    ):
        self.max_body_bytes = int(max_body_bytes)
        self.max_synopses = int(max_synopses)
        self.max_chars = int(max_chars)
        self.max_top_n = int(max_top_n)

    def as_dict(self):
        """The limits as a JSON-ready dict."""
        return {
            "max_body_bytes": self.max_body_bytes,
            "max_synopses": self.max_synopses,
            "max_chars": self.max_chars,
            "max_top_n": self.max_top_n,
        }


class _BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _final_estimator(estimator):
    """The last step of a Pipeline, else the estimator itself."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return _final_estimator(steps[-1][1])
    return estimator


def _decision_rule(model):
    """``(thresholds, min_labels)`` of the fitted model, or None if unknown.

    With it, predicted genres follow from the probabilities, so a request
    needs one call into the model.
    """
    final = _final_estimator(model.pipeline_)
    thresholds = getattr(final, "thresholds_", None)
    if thresholds is None:
        return None
    thresholds = np.broadcast_to(
        np.asarray(thresholds, dtype=float), (len(model.classes_),)
    )
    return thresholds, int(getattr(final, "min_labels", 0) or 0)


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _type_name(value):
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


class _Predictor:
    """The model behind the routes: checks inputs, predicts, explains."""

    def __init__(self, model, limits, model_info):
        from ._pipeline import GenreClassifier
        from ._thresholds import apply_thresholds

        if not isinstance(model, GenreClassifier) or not hasattr(model, "classes_"):
            raise TypeError(
                "skanime serve needs a fitted GenreClassifier; got "
                f"{type(model).__name__}. Train one with 'skanime train'."
            )
        self.model = model
        self.limits = limits
        self.model_info = model_info
        self.genres = [str(g) for g in model.classes_]
        self._apply_thresholds = apply_thresholds
        self._rule = _decision_rule(model)

    # ---------------------------------------------------------------- checks
    def _check_fields(self, body, allowed, required):
        if not isinstance(body, dict):
            raise _BadRequest(
                422, f"the request body must be a JSON object, got {_type_name(body)}"
            )
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise _BadRequest(
                422,
                f"unknown field(s) {', '.join(map(repr, unknown))}; the fields are "
                f"{', '.join(map(repr, allowed))}",
            )
        for name in required:
            if name not in body:
                raise _BadRequest(422, f"missing field {name!r}")

    def _check_synopsis(self, text, where):
        if not isinstance(text, str):
            raise _BadRequest(422, f"{where} must be a string, got {_type_name(text)}")
        if not text.strip():
            raise _BadRequest(422, f"{where} is empty; paste a synopsis")
        if len(text) > self.limits.max_chars:
            raise _BadRequest(
                422,
                f"{where} has {len(text)} characters; the limit is "
                f"{self.limits.max_chars}",
            )
        return text

    def _check_int(self, body, name, default, low, high):
        value = body.get(name, default)
        if value is None:
            return default
        if not _is_int(value):
            raise _BadRequest(
                422, f"{name!r} must be an integer, got {_type_name(value)}"
            )
        if not low <= value <= high:
            raise _BadRequest(
                422, f"{name!r} must be between {low} and {high}, got {value}"
            )
        return value

    def _check_genres(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
            raise _BadRequest(
                422, "'genres' must be a list of genre names, a genre name or null"
            )
        lookup = {g.casefold(): g for g in self.genres}
        unknown = [g for g in value if g.casefold() not in lookup]
        if unknown:
            raise _BadRequest(
                422,
                f"unknown genre(s) {', '.join(map(repr, unknown))}; the model knows "
                f"{', '.join(self.genres)}",
            )
        return [lookup[g.casefold()] for g in value] or None

    # ----------------------------------------------------------------- routes
    def health(self):
        return {
            "status": "ok",
            "version": __version__,
            "model": self.model_info,
            "genres": self.genres,
            "limits": self.limits.as_dict(),
        }

    def predict(self, body):
        self._check_fields(body, ("synopses", "k"), ("synopses",))
        synopses = body["synopses"]
        if not isinstance(synopses, list):
            raise _BadRequest(
                422,
                f"'synopses' must be a list of strings, got {_type_name(synopses)}",
            )
        if not synopses:
            raise _BadRequest(422, "'synopses' is empty; send at least one synopsis")
        if len(synopses) > self.limits.max_synopses:
            raise _BadRequest(
                413,
                f"too many synopses: {len(synopses)}; the limit is "
                f"{self.limits.max_synopses} per request",
            )
        texts = [
            self._check_synopsis(text, f"synopses[{i}]")
            for i, text in enumerate(synopses)
        ]
        k = self._check_int(body, "k", 5, 1, len(self.genres))
        return self.predict_texts(texts, k)

    def predict_texts(self, texts, k):
        """Genres, top-k and probabilities of ``texts``: one model call."""
        proba = self.model.predict_proba(texts).to_numpy(dtype=float)
        if self._rule is not None:
            thresholds, min_labels = self._rule
            indicator = self._apply_thresholds(proba, thresholds, min_labels)
        else:
            thresholds = None
            indicator = self.model.predict_indicator(texts)
        order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        results = []
        for row, flags, top in zip(proba, indicator, order, strict=True):
            results.append(
                {
                    "genres": [g for g, f in zip(self.genres, flags, strict=True) if f],
                    "top": [
                        {
                            "genre": self.genres[j],
                            "probability": float(row[j]),
                            "predicted": bool(flags[j]),
                        }
                        for j in top
                    ],
                    "probabilities": {
                        g: float(p) for g, p in zip(self.genres, row, strict=True)
                    },
                }
            )
        return {
            "k": k,
            "genres": self.genres,
            "thresholds": None
            if thresholds is None
            else {g: float(t) for g, t in zip(self.genres, thresholds, strict=True)},
            "results": results,
        }

    def explain(self, body):
        self._check_fields(body, ("synopsis", "genres", "top_n"), ("synopsis",))
        text = self._check_synopsis(body["synopsis"], "'synopsis'")
        genres = self._check_genres(body.get("genres"))
        top_n = self._check_int(body, "top_n", 8, 1, self.limits.max_top_n)
        explanation = self.model.explain(text, genre=genres, top_n=top_n)
        result = explanation.to_dict()
        return jsonable(result)


def _read_static(name):
    return resources.files("skanime").joinpath("_static", name).read_bytes()


def create_app(model, *, limits=None, model_info=None):
    """The Starlette application serving ``model``.

    Parameters
    ----------
    model : GenreClassifier
        A fitted genre classifier, e.g. from :func:`skanime.load_model`.
    limits : Limits or None, default=None
        Request limits; None uses :class:`Limits` defaults.
    model_info : dict or None, default=None
        What ``/health`` reports about the model (file name, digest).

    Returns
    -------
    app : starlette.applications.Starlette
        An ASGI application; run it with uvicorn or any ASGI server.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from skanime import GenreClassifier
    >>> from skanime._serve import create_app
    >>> pipe = make_pipeline(TfidfVectorizer(),
    ...                      OneVsRestClassifier(LogisticRegression(C=100)))
    >>> model = GenreClassifier(pipeline=pipe).fit(
    ...     ["robots fight in space", "a girl falls in love"],
    ...     [["Sci-Fi"], ["Romance"]])
    >>> app = create_app(model)
    >>> sorted(route.path for route in app.routes)
    ['/', '/explain', '/health', '/predict', '/static/serve.css', '/static/serve.js']
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    limits = Limits() if limits is None else limits
    predictor = _Predictor(model, limits, dict(model_info or {}))
    static = {
        path: (_read_static(name), kind) for path, (name, kind) in _STATIC_FILES.items()
    }

    def error(status, message):
        return JSONResponse({"error": message, "status": status}, status_code=status)

    async def read_json(request):
        kind = request.headers.get("content-type", "")
        if kind.split(";")[0].strip().lower() != "application/json":
            raise _BadRequest(
                415,
                "the request body must be JSON sent with 'Content-Type: "
                f"application/json', got {kind or 'no content type'!r}",
            )
        declared = request.headers.get("content-length")
        too_big = (
            f"the request body is over {limits.max_body_bytes} bytes, the limit of "
            "this server"
        )
        if declared is not None:
            if not declared.isdigit():
                raise _BadRequest(400, f"bad Content-Length header {declared!r}")
            if int(declared) > limits.max_body_bytes:
                raise _BadRequest(413, too_big)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise _BadRequest(413, too_big)
            chunks.append(chunk)
        raw = b"".join(chunks)
        if not raw.strip():
            raise _BadRequest(400, "the request body is empty; send a JSON object")
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise _BadRequest(400, "the request body is not UTF-8 text") from None
        except ValueError as exc:
            raise _BadRequest(
                400, f"the request body is not valid JSON: {exc}"
            ) from None

    def json_route(handler):
        async def endpoint(request):
            try:
                body = await read_json(request)
                # The model is CPU-bound: keep the event loop free meanwhile.
                result = await run_in_threadpool(handler, body)
            except _BadRequest as exc:
                return error(exc.status, exc.message)
            return JSONResponse(result)

        return endpoint

    async def health(request):
        return JSONResponse(predictor.health())

    def page(path):
        content, kind = static[path]

        async def endpoint(request):
            return Response(content, media_type=kind, headers=_PAGE_HEADERS)

        return endpoint

    async def http_error(request, exc):
        messages = {
            404: f"no such page or endpoint: {request.url.path}",
            405: f"{request.method} is not allowed on {request.url.path}",
        }
        return error(exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    async def server_error(request, exc):
        logger.error(
            "error while answering %s %s",
            request.method,
            request.url.path,
            exc_info=exc,
        )
        return error(500, f"the server failed on this request ({type(exc).__name__})")

    routes = [Route(path, page(path), methods=["GET"]) for path in static]
    routes += [
        Route("/health", health, methods=["GET"]),
        Route("/predict", json_route(predictor.predict), methods=["POST"]),
        Route("/explain", json_route(predictor.explain), methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.predictor = predictor
    return app


def load_app(model_path, *, limits=None):
    """Load a model file saved with :func:`skanime.save_model` and serve it.

    Parameters
    ----------
    model_path : str or path-like
        A skops model file holding a fitted GenreClassifier.
    limits : Limits or None, default=None
        Request limits.

    Returns
    -------
    app : starlette.applications.Starlette
    """
    from ._persistence import load_model

    model = load_model(model_path)
    return create_app(model, limits=limits, model_info=model_info(model_path))


def model_info(model_path):
    """What ``/health`` tells about a model file: its name and digest.

    Parameters
    ----------
    model_path : str or path-like
        The model file.

    Returns
    -------
    info : dict
        ``{"file": base name, "sha256": first 16 hex digits of its SHA-256}``.
    """
    return {
        "file": os.path.basename(os.fspath(model_path)),
        "sha256": _file_digest(model_path)[:16],
    }


def _uvicorn_server(app, host, port, log_level):
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=log_level in ("debug", "trace"),
        server_header=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


def serve(app, *, host="127.0.0.1", port=8000, log_level="info"):
    """Serve ``app`` with uvicorn until interrupted.

    Parameters
    ----------
    app : ASGI application
        From :func:`create_app` or :func:`load_app`.
    host : str, default="127.0.0.1"
        Address to listen on; the default takes connections from this
        machine only.
    port : int, default=8000
        TCP port.
    log_level : str, default="info"
        uvicorn's log level.
    """
    _uvicorn_server(app, host, port, log_level).run()


@contextlib.contextmanager
def running_server(app, *, host="127.0.0.1", log_level="warning"):
    """Serve ``app`` on a free port of ``host`` in a background thread.

    Used by the tests and the load benchmark.

    Yields
    ------
    url : str
        The server's base URL, e.g. ``http://127.0.0.1:40123``.
    """
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only
    # for such sockets; without it Nagle's algorithm adds ~40 ms per response.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = _uvicorn_server(app, host, port, log_level)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name="skanime-serve",
        daemon=True,
    )
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            if not thread.is_alive():
                raise RuntimeError("the server thread stopped before it started")
            threading.Event().wait(0.01)
        else:
            raise RuntimeError("the server did not start within 5 s")
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
