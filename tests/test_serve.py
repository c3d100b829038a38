"""``skanime serve``: the JSON API over HTTP on 127.0.0.1, and the page in Chromium.

The server runs for real (uvicorn on a free loopback port, in a thread) on a
small model trained here on the CLI fixture with cheap settings.
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from _browser import headless_chrome_options
from _small_model import SMALL_PARAMS as SMALL
from sklearn.exceptions import ConvergenceWarning

pytest.importorskip("starlette", reason="skanime serve needs the 'serve' extra")
pytest.importorskip("uvicorn", reason="skanime serve needs the 'serve' extra")

from skanime import GenreClassifier, save_model  # noqa: E402
from skanime._serve import Limits, create_app, load_app, running_server  # noqa: E402
from skanime.cli import main  # noqa: E402
from skanime.datasets import load_anime  # noqa: E402

GHOST = (
    "A ghost haunts the old grave, and every night the corpse of a cursed boy "
    "rises from it; the nightmare ends only when his family laughs at a joke."
)
ROBOT = "Pilots of a giant robot defend the space colony with laser cannons."
# Where the browser test leaves its screenshot (a CI artifact); the one in the
# docs, docs/_static/serve_page.png, is taken by benchmarks/serve.py.
SCREENSHOT = Path(
    os.environ.get(
        "SKANIME_SCREENSHOT",
        Path(__file__).parents[1] / "build" / "screenshots" / "serve_page.png",
    )
)


@pytest.fixture(scope="module")
def model(datapath):
    from skanime import make_genre_pipeline

    bunch = load_anime(datapath("cli", "anime_small.csv"))
    names = list(bunch.target_names)
    genres = [[names[j] for j in row.nonzero()[0]] for row in bunch.target]
    pipeline = make_genre_pipeline(random_state=0, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GenreClassifier(pipeline=pipeline).fit(list(bunch.data), genres)


@pytest.fixture(scope="module")
def model_file(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "model.skops"
    save_model(model, path)
    return path


@pytest.fixture(scope="module")
def server(model_file):
    app = load_app(model_file, limits=Limits(max_body_bytes=4096, max_synopses=4))
    with running_server(app) as url:
        yield url


def _request(url, method, path, body=None, headers=None, raw=None):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        headers = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, response.getheader("Content-Type"), payload
    finally:
        connection.close()


def _json(url, method, path, body=None, **kwargs):
    status, kind, payload = _request(url, method, path, body, **kwargs)
    assert kind.startswith("application/json"), (status, kind, payload[:200])
    return status, json.loads(payload)


def test_health_reports_version_and_genres(server, model, model_file):
    import skanime

    status, health = _json(server, "GET", "/health")
    assert status == 200
    assert health["status"] == "ok"
    assert health["version"] == skanime.__version__
    assert health["genres"] == [str(g) for g in model.classes_]
    assert health["model"]["file"] == model_file.name
    assert len(health["model"]["sha256"]) == 16
    assert health["limits"]["max_synopses"] == 4


def test_predict_matches_the_model(server, model):
    status, answer = _json(
        server, "POST", "/predict", {"synopses": [GHOST, ROBOT], "k": 3}
    )
    assert status == 200
    assert answer["k"] == 3
    assert answer["genres"] == [str(g) for g in model.classes_]
    expected = model.predict([GHOST, ROBOT])
    proba = model.predict_proba([GHOST, ROBOT])
    top = model.top_genres([GHOST, ROBOT], k=3)
    for i, result in enumerate(answer["results"]):
        assert result["genres"] == expected[i]
        assert [t["genre"] for t in result["top"]] == [g for g, _ in top[i]]
        for item in result["top"]:
            assert item["predicted"] == (item["genre"] in expected[i])
        for genre, p in result["probabilities"].items():
            assert p == pytest.approx(proba.loc[i, genre], abs=1e-12)
    thresholds = answer["thresholds"]
    assert set(thresholds) == set(answer["genres"])
    for result in answer["results"]:
        for genre in result["genres"]:
            assert result["probabilities"][genre] >= thresholds[genre]
    assert "Horror" in answer["results"][0]["genres"]


def test_predict_is_one_call_into_the_model(model):
    app = create_app(model)
    predictor = app.state.predictor
    calls = []
    original = model.pipeline_.predict_proba

    def counting(X):
        calls.append(len(X))
        return original(X)

    model.pipeline_.predict_proba = counting
    try:
        predictor.predict_texts([GHOST, ROBOT, GHOST], k=2)
    finally:
        del model.pipeline_.predict_proba
    assert calls == [3]


def test_explain_returns_the_words_behind_a_genre(server):
    status, answer = _json(
        server,
        "POST",
        "/explain",
        {"synopsis": GHOST, "genres": ["horror"], "top_n": 5},
    )
    assert status == 200
    (entry,) = answer["genres"]
    assert entry["genre"] == "Horror"
    assert 1 <= len(entry["words"]) <= 5
    best = max(entry["words"], key=lambda w: w["contribution"])
    assert best["contribution"] > 0
    assert best["word"] in GHOST.lower()


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({}, 422, "missing field 'synopses'"),
        ({"synopses": "a ghost"}, 422, "'synopses' must be a list of strings"),
        ({"synopses": []}, 422, "'synopses' is empty"),
        ({"synopses": ["ghost", "  "]}, 422, "synopses[1] is empty"),
        ({"synopses": ["ghost", 3]}, 422, "synopses[1] must be a string, got a number"),
        ({"synopses": ["ghost"] * 5}, 413, "too many synopses: 5; the limit is 4"),
        ({"synopses": ["ghost"], "k": "3"}, 422, "'k' must be an integer"),
        ({"synopses": ["ghost"], "k": True}, 422, "'k' must be an integer"),
        ({"synopses": ["ghost"], "k": 0}, 422, "'k' must be between 1 and 5"),
        ({"synopses": ["ghost"], "top": 3}, 422, "unknown field(s) 'top'"),
        (["ghost"], 422, "must be a JSON object, got a list"),
        ({"synopses": ["x" * 5000]}, 413, "over 4096 bytes"),
    ],
)
def test_bad_predict_requests_get_a_json_error(server, body, status, message):
    got, answer = _json(server, "POST", "/predict", body)
    assert got == status
    assert answer["status"] == status
    assert message in answer["error"]


@pytest.mark.parametrize(
    "headers, raw, status, message",
    [
        ({"Content-Type": "text/plain"}, b'{"synopses": ["a"]}', 415, "text/plain"),
        ({}, b'{"synopses": ["a"]}', 415, "no content type"),
        (
            {"Content-Type": "application/json"},
            b'{"synopses": [',
            400,
            "not valid JSON",
        ),
        ({"Content-Type": "application/json"}, b"", 400, "body is empty"),
        ({"Content-Type": "application/json"}, b'"\xff"', 400, "not UTF-8"),
    ],
)
def test_malformed_bodies_get_a_json_error(server, headers, raw, status, message):
    got, answer = _json(server, "POST", "/predict", headers=headers, raw=raw)
    assert got == status
    assert message in answer["error"]


def test_a_chunked_body_over_the_limit_is_refused(server):
    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    body = json.dumps({"synopses": ["ghost " * 200] * 4}).encode()
    assert len(body) > 4096
    try:
        connection.request(
            "POST",
            "/predict",
            body=iter([body[i : i + 1000] for i in range(0, len(body), 1000)]),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 413
    assert "over 4096 bytes" in answer["error"]


def test_bad_explain_requests_and_unknown_routes(server):
    status, answer = _json(
        server, "POST", "/explain", {"synopsis": GHOST, "genres": ["Cooking"]}
    )
    assert status == 422 and "unknown genre(s) 'Cooking'" in answer["error"]
    status, answer = _json(server, "POST", "/explain", {"synopsis": ""})
    assert status == 422 and "'synopsis' is empty" in answer["error"]
    status, answer = _json(server, "GET", "/nothing-here")
    assert status == 404 and "/nothing-here" in answer["error"]
    status, answer = _json(server, "GET", "/predict")
    assert status == 405 and "GET is not allowed" in answer["error"]


def test_the_server_keeps_serving_after_errors(server):
    for _ in range(3):
        _request(server, "POST", "/predict", raw=b"{", headers={})
        _request(server, "POST", "/predict", {"synopses": [None]})
    status, answer = _json(server, "POST", "/predict", {"synopses": [ROBOT]})
    assert status == 200 and len(answer["results"]) == 1


def test_an_internal_failure_is_a_json_500_without_traceback(model):
    app = create_app(model)
    broken = app.state.predictor

    def fail(texts, k):
        raise RuntimeError("secret detail")

    broken.predict_texts = fail
    with running_server(app) as url:
        status, kind, payload = _request(url, "POST", "/predict", {"synopses": ["a"]})
        assert status == 500
        assert kind.startswith("application/json")
        assert b"Traceback" not in payload and b"secret detail" not in payload
        assert json.loads(payload)["error"].endswith("(RuntimeError)")
        assert _json(url, "GET", "/health")[0] == 200


def test_the_page_and_its_assets_are_served_with_no_outside_links(server):
    status, kind, page = _request(server, "GET", "/")
    assert status == 200 and kind.startswith("text/html")
    assert b"/static/serve.js" in page and b"/static/serve.css" in page
    for path in ("/static/serve.js", "/static/serve.css"):
        status, _, asset = _request(server, "GET", path)
        assert status == 200 and len(asset) > 500
        page += asset
    assert b"http://" not in page and b"https://" not in page


def test_cli_serve_answers_on_loopback(model_file, tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skanime",
            "serve",
            str(model_file),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, health = _json(url, "GET", "/health")
                break
            except (ConnectionError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"skanime serve did not start: {process.stdout.read()}")
                time.sleep(0.2)
        assert status == 200 and health["model"]["file"] == model_file.name
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_cli_serve_user_errors(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "missing.skops")]) == 2
    assert "model file" in capsys.readouterr().err
    assert main(["serve", "m.skops", "--port", "70000"]) == 2
    assert "port" in capsys.readouterr().err


# ------------------------------------------------------------------ browser
def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="the browser test needs selenium"
    )
    binary, driver = _chromium(), shutil.which("chromedriver")
    if binary is None or driver is None:
        if os.environ.get("SKANIME_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "SKANIME_REQUIRE_BROWSER=1 but chromium/chromedriver is missing"
            )
        pytest.skip(
            "the browser test needs Chromium and its driver (Debian packages "
            "chromium and chromium-driver); neither was found on PATH"
        )
    from selenium.webdriver.chrome.service import Service

    options = headless_chrome_options(
        webdriver, binary, tmp_path / "profile", window_size=(1200, 900)
    )
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    session.set_page_load_timeout(60)
    try:
        yield session
    finally:
        session.quit()


def test_the_page_in_a_real_browser(server, browser, model):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(server + "/")
    wait.until(ec.text_to_be_present_in_element((By.ID, "model-info"), "genres"))
    assert "model.skops" in browser.find_element(By.ID, "model-info").text

    # An empty synopsis is refused on the page itself.
    browser.find_element(By.ID, "predict").click()
    error = browser.find_element(By.ID, "error")
    assert error.is_displayed() and "Paste a synopsis" in error.text

    box = browser.find_element(By.ID, "synopsis")
    box.send_keys(GHOST)
    browser.find_element(By.ID, "predict").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#highlighted mark"))

    # Predicted genres, most probable first, as the page lists them.
    proba = model.predict_proba([GHOST]).iloc[0]
    expected = sorted(model.predict([GHOST])[0], key=lambda g: -proba[g])
    chips = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#predicted li")]
    assert chips == expected and "Horror" in chips
    rows = browser.find_elements(By.CSS_SELECTOR, "#top li")
    assert len(rows) == 5
    top = model.top_genres([GHOST], k=5)[0]
    assert [r.get_attribute("data-genre") for r in rows] == [g for g, _ in top]
    widths = [
        r.find_element(By.CSS_SELECTOR, ".fill").value_of_css_property("width")
        for r in rows
    ]
    assert float(widths[0].rstrip("px")) > float(widths[-1].rstrip("px"))
    tabs = [
        t.text for t in browser.find_elements(By.CSS_SELECTOR, "#genre-tabs button")
    ]
    assert tabs == expected
    marks = browser.find_elements(By.CSS_SELECTOR, "#highlighted mark")
    assert all(m.text.lower() in GHOST.lower() for m in marks)
    assert {m.get_attribute("data-genre") for m in marks} == {expected[0]}
    assert browser.find_element(By.ID, "highlighted").text == GHOST
    assert not browser.find_element(By.ID, "error").is_displayed()

    # Another genre's tab highlights that genre's words; Ctrl+Enter predicts.
    if len(tabs) > 1:
        browser.find_elements(By.CSS_SELECTOR, "#genre-tabs button")[1].click()
        marks = browser.find_elements(By.CSS_SELECTOR, "#highlighted mark")
        assert {m.get_attribute("data-genre") for m in marks} <= {tabs[1]}
    box.clear()
    box.send_keys(ROBOT)
    box.send_keys(Keys.CONTROL, Keys.ENTER)
    wait.until(
        lambda d: (
            d.find_element(By.ID, "highlighted").text == ROBOT
            and d.find_elements(By.CSS_SELECTOR, "#highlighted mark")
        )
    )
    chips = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#predicted li")]
    assert sorted(chips) == model.predict([ROBOT])[0]

    box.clear()
    box.send_keys(GHOST)
    box.send_keys(Keys.CONTROL, Keys.ENTER)
    wait.until(
        lambda d: (
            d.find_element(By.ID, "highlighted").text == GHOST
            and d.find_elements(By.CSS_SELECTOR, "#highlighted mark")
        )
    )
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
