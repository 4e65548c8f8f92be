"""The live panel as a small page of its own: it polls the files dcgan_core.live_view
writes and draws them (numbers, sample grids, both charts with the browser's Plotly).

It asks for the next state only once the last one has arrived (never a queue of
requests behind a slow server), at most once per ``interval_ms``.
"""

from __future__ import annotations

import json

VIEWS = ("normal", "projector")

_CSS = """
:root { color-scheme: light; font-family: "Source Sans Pro", "Source Sans 3", "Noto Sans CJK SC", sans-serif; }
body { margin: 0; color: #31333f; background: transparent; overflow: hidden; }
#live { display: flex; flex-direction: column; gap: 10px; }
.progress .bar { height: 8px; background: #e6e9ef; border-radius: 4px; overflow: hidden; }
.progress .fill { height: 100%; width: 0; background: #ff4b4b; transition: width .3s; }
.progress .text { font-size: 14px; margin-top: 4px; }
.numbers { display: flex; flex-wrap: wrap; gap: 8px 24px; }
.number .label { font-size: 14px; color: #555; white-space: nowrap; }
.number .value { font-size: 30px; font-variant-numeric: tabular-nums; }
.images { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
figure { margin: 0; min-width: 0; }
figcaption { font-weight: 600; font-size: 15px; margin-bottom: 4px; }
img { width: 100%; image-rendering: pixelated; display: block; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.chart { min-width: 0; height: 320px; }
.facts { font-size: 13px; color: #777; }
.normal .title { display: none; }  /* the page's own heading says it */
.projector .title { font-weight: 600; font-size: clamp(16px, 1.3vw, 26px); }
.normal .main { display: flex; flex-direction: column; gap: 10px; }
.stale { opacity: .55; }
@media (max-width: 640px) { .images, .charts { grid-template-columns: 1fr; } }
/* The projector: one row of big numbers, then the grid beside both charts, all within the window. */
.projector { height: 100vh; }
.projector .numbers { flex-wrap: nowrap; justify-content: space-between; gap: 12px; }
.projector .number .label { font-size: clamp(12px, 1.1vw, 20px); }
.projector .number .value { font-size: clamp(26px, 3.2vw, 64px); font-weight: 600; }
.projector .main { flex: 1; min-height: 0; display: grid; gap: 12px;
                   grid-template-columns: minmax(0, 1fr) minmax(0, 1fr) minmax(0, 1fr); }
.projector .images { display: block; min-height: 0; }
.projector figure.real { display: none; }
.projector figure.fake { height: 100%; display: flex; flex-direction: column; }
.projector figure.fake img { flex: 1; min-height: 0; object-fit: contain; object-position: top left; }
.projector .charts { display: contents; }
.projector .chart { height: 100%; min-height: 0; }
.projector .facts { display: none; }
"""

_JS = """
const root = document.getElementById('live');
const base = root.dataset.base, lang = root.dataset.lang, interval = +root.dataset.interval;
const projector = root.classList.contains('projector');
const $ = sel => root.querySelector(sel);
let templates = null, shownGrid = null, shownReal = null, lastState = null;

function fitFrame() {
  const frame = window.frameElement;
  if (!frame) return;
  let height;
  if (projector) {
    const top = frame.getBoundingClientRect().top + window.parent.scrollY;
    height = Math.max(360, window.parent.innerHeight - Math.max(0, top) - 8);
    root.style.height = height + 'px';
  } else {
    height = root.scrollHeight + 4;
  }
  /* Streamlit sized the frame's container for the first height: it must follow. */
  for (const box of [frame, frame.parentElement]) {
    if (box && box.style.height !== height + 'px') box.style.height = height + 'px';
  }
}

function drawChart(id, name, series) {
  if (!templates || !window.Plotly || !series) return;
  const template = templates[name];
  const data = template.data.map((trace, i) => Object.assign({}, trace, {x: series.x, y: series.y[i] || []}));
  const el = document.getElementById(id);
  const layout = Object.assign({}, template.layout, {height: el.clientHeight || 320, autosize: true,
    margin: {l: 56, r: 12, t: 40, b: 10}});
  Plotly.react(el, data, layout, {displayModeBar: false, responsive: true});
}

function redrawCharts() {
  if (!lastState) return;
  drawChart('loss', 'loss', lastState.series.loss);
  drawChart('prob', 'prob', lastState.series.prob);
}

function render(state) {
  $('.title').textContent = state.title;
  $('.progress .fill').style.width = (100 * state.progress).toFixed(1) + '%';
  $('.progress .text').textContent = state.progress_text;
  const numbers = $('.numbers');
  numbers.innerHTML = '';
  for (const [label, value] of state.numbers) {
    const box = document.createElement('div');
    box.className = 'number';
    box.innerHTML = '<div class="label"></div><div class="value"></div>';
    box.children[0].textContent = label;
    box.children[1].textContent = value;
    numbers.appendChild(box);
  }
  $('figure.real figcaption').textContent = state.real_label;
  if (state.real && state.real !== shownReal) {
    $('figure.real img').src = base + '/' + state.real; shownReal = state.real;
  }
  $('figure.fake figcaption').textContent = state.grid_label;
  if (state.grid && state.grid !== shownGrid) {
    $('figure.fake img').src = base + '/' + state.grid; shownGrid = state.grid;
  }
  $('.facts').textContent = state.facts || '';
  lastState = state;
  redrawCharts();
  root.dataset.step = state.step;
  root.dataset.status = state.status;
  fitFrame();
}

async function loadTemplates() {
  try {
    const reply = await fetch(base + '/charts_' + lang + '.json', {cache: 'no-store'});
    if (reply.ok) templates = await reply.json();
  } catch (err) { /* the next poll tries again */ }
}

async function poll() {
  const started = Date.now();
  let wait = interval;
  try {
    if (!templates) await loadTemplates();
    const reply = await fetch(base + '/state_' + lang + '.json?t=' + started, {cache: 'no-store'});
    if (!reply.ok) throw new Error(reply.status);
    const state = await reply.json();
    render(state);
    root.classList.remove('stale');
    root.dataset.polls = (+(root.dataset.polls || 0) + 1);
    if (!state.active) wait = 5 * interval;  /* an ended run changes only when a new one starts */
  } catch (err) {
    root.classList.add('stale');
    wait = 2 * interval;
  }
  setTimeout(poll, Math.max(50, wait - (Date.now() - started)));
}

window.addEventListener('resize', fitFrame);
window.parent.addEventListener('resize', fitFrame);
fitFrame();
poll();
"""


def live_panel_html(
    base_url: str, lang: str, view: str = "normal", interval_ms: int = 1000, plotly_url: str = ""
) -> str:
    """The panel's page: ``base_url`` is the run's folder as the browser reaches it
    (".../app/static/live/<server>/<run>"), ``plotly_url`` the browser's Plotly bundle."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
    attrs = {
        "data-base": base_url,
        "data-lang": lang,
        "data-interval": str(int(interval_ms)),
        "data-live-state": f"{base_url}/state_{lang}.json",
    }
    attr_text = " ".join(f"{name}={json.dumps(value)}" for name, value in attrs.items())
    classes = "projector" if view == "projector" else "normal"
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>{_CSS}</style></head><body>
<div id="live" class="{classes}" {attr_text}>
  <div class="title"></div>
  <div class="progress"><div class="bar"><div class="fill"></div></div><div class="text"></div></div>
  <div class="numbers"></div>
  <div class="main">
    <div class="images">
      <figure class="real"><figcaption></figcaption><img alt=""></figure>
      <figure class="fake"><figcaption></figcaption><img alt=""></figure>
    </div>
    <div class="charts"><div class="chart" id="loss"></div><div class="chart" id="prob"></div></div>
  </div>
  <div class="facts"></div>
</div>
<script>{_JS}</script>
<script async src={json.dumps(plotly_url)} onload="redrawCharts()"></script>
</body></html>"""
