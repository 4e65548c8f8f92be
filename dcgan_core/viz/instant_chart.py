"""A lesson chart that follows its sliders in the browser, before the page's script runs again.

A slider's move costs a round trip: the browser sends the value, the server reruns the lesson
and sends its figure, and Plotly draws it. On two cores that is 0.5-1.3 s
(benchmarks/slider_latency.py). So the lesson also sends the chart at the nearby values of the
slider in play (``neighbour_values``), everything else unchanged; the small script below draws
them ahead, out of view, and swaps in the one for the slider's new value the moment the slider
moves. The page's own run still follows and brings the rest of the page; when its chart is the
one already shown, nothing is drawn again.

The figures are drawn by the browser's own Plotly (static/plotly.min.js), not Streamlit's
chart element, so they carry Plotly's plain template instead of the placeholder colours of
Streamlit's theme (``browser_json``); the script takes the page's font and colours.
"""

from __future__ import annotations

import hashlib
import json

import plotly.graph_objects as go
import plotly.io

from dcgan_core.viz.frozen import figure_json

TEMPLATE = "plotly_white"  # the closest of Plotly's own to Streamlit's light charts


def neighbour_values(value: int, low: int, high: int, radius: int) -> list[int]:
    """The slider's values within ``radius`` notches of ``value``, inside [low, high], nearest first."""
    found = []
    for distance in range(1, radius + 1):
        for candidate in (value + distance, value - distance):
            if low <= candidate <= high:
                found.append(candidate)
    return found


def _template_dict() -> dict:
    return plotly.io.templates[TEMPLATE].to_plotly_json()


def browser_json(figure: go.Figure) -> str:
    """The figure's JSON with Plotly's plain template in place of Streamlit's (computed once per
    frozen figure: a lesson's figures are shared by every session with the same settings)."""
    cached = figure.__dict__.get("_browser_json")
    if cached is not None:
        return cached
    spec = json.loads(figure_json(figure))
    spec.setdefault("layout", {})["template"] = _template_dict()
    text = json.dumps(spec, separators=(",", ":"))
    figure.__dict__["_browser_json"] = text
    return text


def chart_id(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def instant_chart_data(
    key: str,
    figure: go.Figure,
    sliders: dict[str, tuple[int, dict[int, go.Figure]]],
    plotly_url: str,
    height: int,
    load_error: str,
    config: dict | None = None,
) -> dict:
    """What the browser needs for the chart ``key``: the chart now (``current``), and for each slider key its value now
    and the chart at each nearby value (``frames``: value -> figure id). Each distinct figure is
    sent once, in ``figures`` (id -> JSON). ``load_error`` is shown if plotly.js cannot load."""
    figures: dict[str, str] = {}

    def add(fig: go.Figure) -> str:
        text = browser_json(fig)
        key = chart_id(text)
        figures.setdefault(key, text)
        return key

    current = add(figure)
    watched = {
        key: {"value": value, "frames": {str(v): add(fig) for v, fig in nearby.items()}}
        for key, (value, nearby) in sliders.items()
    }
    return {
        "key": key,
        "plotly": plotly_url,
        "height": height,
        "config": dict(config or {}, responsive=True),
        "current": current,
        "figures": figures,
        "sliders": watched,
        "load_error": load_error,
    }


# Streamlit calls this on every page run with the data above. The chart's state is kept by its key
# (``charts`` below), so a later run finds what is shown and draws only when its chart is another one.
INSTANT_CHART_JS = """
const ACTIVE_MS = 1500;  // how long after a key or a press on a slider a move counts as the student's
const ARROW_STEPS = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 };
const STAGE_GAP_MS = 50;  // between two charts drawn ahead
const PENDING_MS = 10000;  // how long a moved-to value outweighs the page's, if no run for it comes

function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve();
  if (!window.__labPlotly) {
    window.__labPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = () => { window.__labPlotly = null; reject(new Error("plotly.js did not load")); };
      document.head.appendChild(script);
    });
  }
  return window.__labPlotly;
}

function parsed(chart, id) {
  if (!chart.parsed.has(id)) chart.parsed.set(id, JSON.parse(chart.data.figures[id]));
  return chart.parsed.get(id);
}

function newRoot() {
  const root = document.createElement("div");
  root.className = "lab-instant-chart";
  root.style.width = "100%";
  return root;
}

// Plotly draws into ``div``; an animation's frames are added now (``frames``) or once the chart is shown.
function plot(div, chart, id, frames) {
  const figure = parsed(chart, id);
  const style = getComputedStyle(chart.root);
  const layout = Object.assign({}, figure.layout || {});
  const height = layout.height || chart.data.height;
  if (div.style.height !== height + "px") div.style.height = height + "px";
  layout.font = Object.assign({ family: style.fontFamily, color: style.color }, layout.font || {});
  layout.paper_bgcolor = layout.paper_bgcolor || "rgba(0,0,0,0)";
  layout.height = height;
  layout.autosize = true;
  delete layout.width;
  window.Plotly.react(div, { data: figure.data || [], layout, frames: frames ? figure.frames || [] : [],
                             config: chart.data.config });
  div.dataset.drawn = id;
  if (!frames && (figure.frames || []).length) {
    requestAnimationFrame(() => setTimeout(() => {
      if (div.dataset.drawn === id) window.Plotly.addFrames(div, figure.frames);
    }, 0));
  }
}

// Charts drawn ahead wait, ready, outside the page's view; showing one is a swap of elements.
function stagingArea() {
  let area = document.getElementById("lab-instant-staging");
  if (!area) {
    area = document.createElement("div");
    area.id = "lab-instant-staging";
    area.setAttribute("aria-hidden", "true");
    area.style.cssText = "position:absolute;left:-100000px;top:0;visibility:hidden;pointer-events:none";
    document.body.appendChild(area);
  }
  return area;
}

function show(chart, id) {
  if (!window.Plotly || id === chart.drawn || !(id in chart.data.figures)) return;
  const old = chart.root, staged = chart.staged.get(id);
  const width = old.clientWidth;
  if (staged && old.parentNode && staged.style.width === width + "px") {
    chart.staged.delete(id);
    staged.style.width = "100%";
    old.parentNode.replaceChild(staged, old);
    if (chart.drawn) {
      old.style.width = width + "px";
      stagingArea().appendChild(old);
      chart.staged.set(chart.drawn, old);
    } else {
      window.Plotly.purge(old);
    }
    chart.root = staged;
  } else {
    plot(old, chart, id, false);
  }
  chart.drawn = id;
  chart.shown += 1;
  chart.root.dataset.draws = String(chart.shown);
}

// After each page run, draw the charts for the nearby values ahead, nearest first, one per task
// (a key press then waits for one drawing at most) and drop those no longer near.
function stageAhead(chart) {
  clearTimeout(chart.stageTimer);
  const slider = Object.values(chart.data.sliders)[0];
  if (!slider || !window.Plotly || !chart.root.isConnected) return;
  const near = Object.entries(slider.frames)
    .sort((a, b) => Math.abs(a[0] - slider.value) - Math.abs(b[0] - slider.value))
    .map(([, id]) => id);
  for (const [id, div] of chart.staged) {
    if (!near.includes(id) || div.style.width !== chart.root.clientWidth + "px") {
      window.Plotly.purge(div);
      div.remove();
      chart.staged.delete(id);
    }
  }
  const next = near.find(id => id !== chart.drawn && !chart.staged.has(id));
  if (!next) return;
  const div = newRoot();
  div.style.width = chart.root.clientWidth + "px";
  stagingArea().appendChild(div);
  plot(div, chart, next, true);
  chart.staged.set(next, div);
  chart.stageTimer = setTimeout(() => stageAhead(chart), STAGE_GAP_MS);
}

// The chart to show. After a student moved a slider, the one for the value moved to, until a page
// run for that value arrives (a run begun before the move, for the old value, does not undo it);
// if the page sent no chart for that value, the one drawn stays. Otherwise the page's own.
function wanted(chart) {
  const now = Date.now();
  for (const [key, slider] of Object.entries(chart.data.sliders)) {
    const pending = chart.pending[key];
    if (!pending) continue;
    if (slider.value === pending.value || now - pending.at > PENDING_MS) {
      delete chart.pending[key];
      continue;
    }
    return slider.frames[String(pending.value)] || chart.drawn;
  }
  return chart.data.current;
}

function watchSlider(chart, key, onMove) {
  const box = document.querySelector(".st-key-" + CSS.escape(key));
  const input = box && box.querySelector("input[type='range']");
  if (!input) return null;
  const touch = () => { chart.touched = Date.now(); };
  const press = () => { chart.pressed = true; touch(); };
  const release = () => { if (chart.pressed) { chart.pressed = false; touch(); } };
  const moved = (value = Number(input.value)) => {
    if (chart.pressed || Date.now() - chart.touched < ACTIVE_MS) {
      if (!chart.pending[key] || chart.pending[key].value !== value) chart.pending[key] = { value, at: Date.now() };
      onMove();
    } else if (chart.pending[key] && chart.pending[key].value !== value) {
      delete chart.pending[key];  // the page set the slider itself (a preset, the teacher's value)
    }
  };
  // An arrow key moves the slider one step, but the slider shows it only once React has rendered
  // (~60 ms later on two cores): the chart starts from the key itself; the slider's own value,
  // when it comes, confirms it (or corrects it).
  const keyed = event => {
    touch();
    const step = ARROW_STEPS[event.key];
    if (!step || event.target !== input || event.altKey || event.ctrlKey || event.metaKey) return;
    const by = Number(input.step) || 1;
    moved(Math.min(Number(input.max), Math.max(Number(input.min), Number(input.value) + step * by)));
  };
  box.addEventListener("keydown", keyed, true);
  box.addEventListener("pointerdown", press, true);
  window.addEventListener("pointerup", release, true);
  const changed = () => moved();
  input.addEventListener("input", changed);
  const observer = new MutationObserver(changed);
  observer.observe(input, { attributes: true, attributeFilter: ["value", "aria-valuetext"] });
  return () => {
    observer.disconnect();
    input.removeEventListener("input", changed);
    box.removeEventListener("keydown", keyed, true);
    box.removeEventListener("pointerdown", press, true);
    window.removeEventListener("pointerup", release, true);
  };
}

// One move can redraw several charts. The one most in view is drawn at once, each other one after
// the frame showing the previous has been painted: the student sees the change where they look first.
const redraws = (window.__labInstantRedraws = window.__labInstantRedraws || { waiting: new Map(), soon: false });

function inView(root) {
  const box = root.getBoundingClientRect();
  const shown = Math.min(box.bottom, window.innerHeight) - Math.max(box.top, 0);
  return box.height > 0 ? Math.max(0, shown) / Math.min(box.height, window.innerHeight) : 0;
}

function redrawNext() {
  redraws.soon = false;
  let best = null;
  for (const [key, entry] of redraws.waiting) {
    const seen = inView(entry.chart.root);
    if (!best || seen > best.seen) best = { key, seen, refresh: entry.refresh };
  }
  if (!best) return;
  redraws.waiting.delete(best.key);
  best.refresh();
  if (redraws.waiting.size) {
    redraws.soon = true;
    requestAnimationFrame(() => setTimeout(redrawNext, 0));
  }
}

function redrawSoon(key, chart, refresh) {
  redraws.waiting.set(key, { chart, refresh });
  if (!redraws.soon) {
    redraws.soon = true;
    setTimeout(redrawNext, 0);  // once every chart has heard of this move (each listener is its own microtask turn)
  }
}

// Charts by key, kept across page runs: when Streamlit mounts the element anew (an element
// appeared above it), the chart already drawn moves into the new place instead of being drawn again.
const charts = (window.__labInstantCharts = window.__labInstantCharts || {});

export default function (component) {
  const { data, parentElement } = component;
  let chart = charts[data.key];
  if (!chart) {
    chart = charts[data.key] = { root: newRoot(), drawn: null, shown: 0, parsed: new Map(), staged: new Map(),
                                 watches: {}, pending: {}, touched: 0, pressed: false, stageTimer: null };
  }
  if (chart.root.parentNode !== parentElement) parentElement.appendChild(chart.root);
  if (!chart.root.style.height) chart.root.style.height = data.height + "px";  // until the first chart is drawn
  chart.data = data;
  // The slider values of the page run that sent this, for tests and benchmarks (outside the chart:
  // a change inside it would look like a drawing).
  const values = Object.entries(data.sliders).map(([key, slider]) => [key, slider.value]);
  parentElement.dataset.values = JSON.stringify(Object.fromEntries(values));
  for (const id of [...chart.parsed.keys()]) if (!(id in data.figures)) chart.parsed.delete(id);
  const refresh = () => show(chart, wanted(chart));
  const moved = () => redrawSoon(data.key, chart, refresh);
  for (const stop of Object.values(chart.watches)) if (stop) stop();
  chart.watches = {};
  for (const key of Object.keys(data.sliders)) chart.watches[key] = watchSlider(chart, key, moved);
  clearTimeout(chart.stageTimer);
  loadPlotly(data.plotly).then(() => {
    refresh();
    chart.stageTimer = setTimeout(() => stageAhead(chart), STAGE_GAP_MS);
  }).catch(() => { chart.root.textContent = data.load_error; });
  return () => {
    for (const stop of Object.values(chart.watches)) if (stop) stop();
    chart.watches = {};
    clearTimeout(chart.stageTimer);
    setTimeout(() => {  // left the lesson (not mounted anew in another place): drop the charts drawn ahead
      if (chart.root.isConnected) return;
      for (const div of chart.staged.values()) { window.Plotly && window.Plotly.purge(div); div.remove(); }
      chart.staged.clear();
    }, 1000);
  };
}
"""
