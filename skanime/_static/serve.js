// The skanime page: predict the genres of a synopsis and highlight the words
// behind each predicted genre. Talks only to the server that sent it.
"use strict";

const COLORS = ["#3a5bd9", "#d9480f", "#2b8a3e", "#ae3ec9", "#c2255c",
                "#0b7285", "#e67700", "#5f3dc4", "#5c940d", "#862e9c"];
const WORD = /[\p{L}\p{M}]{2,}/gu;  // the words the explanations are about

const $ = (id) => document.getElementById(id);
let genreColor = {};

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "style") Object.assign(node.style, value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

async function postJSON(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) {
    const message = data && data.error ? data.error : `HTTP ${response.status}`;
    throw new Error(message);
  }
  return data;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

// The predicted genres, most probable first.
function byProbability(result) {
  return [...result.genres].sort((a, b) => result.probabilities[b] - result.probabilities[a]);
}

function renderPrediction(result, thresholds, k) {
  genreColor = {};
  result.top.forEach((item, i) => { genreColor[item.genre] = COLORS[i % COLORS.length]; });
  result.genres.forEach((genre, i) => {
    if (!(genre in genreColor)) genreColor[genre] = COLORS[(k + i) % COLORS.length];
  });

  const predicted = $("predicted");
  predicted.replaceChildren();
  if (result.genres.length === 0) {
    predicted.append(el("li", {className: "none", textContent: "no genre reaches its threshold"}));
  }
  for (const genre of byProbability(result)) {
    predicted.append(el("li", {textContent: genre, style: {background: genreColor[genre]}}));
  }

  $("top-k").textContent = String(result.top.length);
  const top = $("top");
  top.replaceChildren();
  for (const item of result.top) {
    const percent = (100 * item.probability).toFixed(1);
    const fill = el("div", {className: "fill", style: {width: `${percent}%`}});
    if (item.predicted) fill.style.background = genreColor[item.genre];
    const track = el("div", {className: "track"}, [fill]);
    const threshold = thresholds ? thresholds[item.genre] : null;
    if (threshold !== null && threshold !== undefined) {
      track.append(el("div", {
        className: "tick",
        title: `threshold ${threshold.toFixed(3)}`,
        style: {left: `calc(${(100 * threshold).toFixed(1)}% - 1px)`},
      }));
    }
    top.append(el("li", {
      className: item.predicted ? "predicted" : "",
      dataset: {genre: item.genre},
    }, [
      el("span", {className: "name", textContent: item.genre, title: item.genre}),
      track,
      el("span", {className: "value", textContent: `${percent}%`}),
    ]));
  }
}

function hexToRgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha.toFixed(2)})`;
}

function renderHighlight(text, genre, words) {
  const box = $("highlighted");
  box.replaceChildren();
  const weights = new Map();
  for (const w of words) if (w.contribution > 0) weights.set(w.word, w.contribution);
  const largest = Math.max(0, ...weights.values());
  let last = 0;
  for (const match of text.matchAll(WORD)) {
    const word = match[0].toLowerCase();
    if (!weights.has(word)) continue;
    box.append(text.slice(last, match.index));
    const share = largest > 0 ? weights.get(word) / largest : 0;
    box.append(el("mark", {
      textContent: match[0],
      title: `${genre}: +${weights.get(word).toFixed(3)} log-odds`,
      dataset: {genre: genre, word: word},
      style: {background: hexToRgba(genreColor[genre] || COLORS[0], 0.18 + 0.5 * share)},
    }));
    last = match.index + match[0].length;
  }
  box.append(text.slice(last));
}

function renderExplanation(text, explanation) {
  const tabs = $("genre-tabs");
  tabs.replaceChildren();
  const select = (index) => {
    [...tabs.children].forEach((tab, i) => {
      const on = i === index;
      tab.setAttribute("aria-selected", String(on));
      tab.style.background = on ? genreColor[tab.dataset.genre] : "";
    });
    const entry = explanation.genres[index];
    renderHighlight(text, entry.genre, entry.words);
  };
  explanation.genres.forEach((entry, i) => {
    const tab = el("button", {
      type: "button",
      textContent: entry.genre,
      dataset: {genre: entry.genre},
      style: {borderColor: genreColor[entry.genre] || COLORS[0]},
    });
    tab.setAttribute("role", "tab");
    tab.addEventListener("click", () => select(i));
    tabs.append(tab);
  });
  if (explanation.genres.length) select(0);
  const how = explanation.method === "integrated_gradients"
    ? "integrated gradients" : "leaving each word out";
  $("explain-status").textContent =
    `Highlighted words raised the genre's probability (found by ${how}; ` +
    "hover a word for its change in log-odds). Pick a genre:";
}

async function predict() {
  const text = $("synopsis").value;
  showError("");
  if (!text.trim()) {
    showError("Paste a synopsis first.");
    return;
  }
  const k = Math.max(1, parseInt($("k").value, 10) || 5);
  const button = $("predict");
  button.disabled = true;
  button.textContent = "Predicting\u2026";
  try {
    const data = await postJSON("/predict", {synopses: [text], k: k});
    const result = data.results[0];
    renderPrediction(result, data.thresholds, k);
    $("highlighted").textContent = text;
    $("genre-tabs").replaceChildren();
    $("explain-status").textContent = "Finding the words behind each genre\u2026";
    $("results").hidden = false;
    const genres = result.genres.length ? byProbability(result) : [result.top[0].genre];
    const explanation = await postJSON("/explain", {synopsis: text, genres: genres, top_n: 8});
    renderExplanation(text, explanation);
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
    button.textContent = "Predict genres";
  }
}

async function loadHealth() {
  try {
    const response = await fetch("/health");
    const health = await response.json();
    const file = health.model && health.model.file ? `${health.model.file}, ` : "";
    $("model-info").textContent =
      `model: ${file}${health.genres.length} genres \u00b7 skanime ${health.version}`;
    $("k").max = String(health.genres.length);
  } catch (error) {
    $("model-info").textContent = "the server does not answer";
  }
}

$("predict").addEventListener("click", predict);
$("synopsis").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    predict();
  }
});
loadHealth();
