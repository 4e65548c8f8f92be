"""A lesson chart that a follower's browser keeps in step with the teacher's, with no script run.

While a student follows the teacher, each lesson chart is drawn by this small page (in an
iframe, with the browser's Plotly) instead of Streamlit's chart element. The teacher's charts
are gzipped files, which the browser unzips itself (DecompressionStream). It starts with the
chart of the follower's own last page run, then listens to the follow watch in the page around
it (classroom_ui), which reads the classroom's state file once a second: when the teacher's
version of this chart is a new file, it fetches that file and redraws. Only the newest request
is drawn, so a slow reply never puts an older chart back.
"""

from __future__ import annotations

import html

_JS = """
const root = document.getElementById('chart');
const {key, page, lang, base} = root.dataset;
const initial = JSON.parse(document.getElementById('initial').textContent);
let shownFile = null, asked = 0;

function draw(figure) {
  const layout = Object.assign({}, figure.layout || {}, {autosize: true});
  delete layout.width;
  Plotly.react(root, {data: figure.data || [], layout, frames: figure.frames || [],
                      config: {displayModeBar: false, responsive: true}});
  root.dataset.draws = +(root.dataset.draws || 0) + 1;
}

async function onState(state) {
  if (!state || state.page !== page || state.lang !== lang) return;
  const file = (state.figures || {})[key];
  if (!file || file === shownFile) return;
  const ticket = ++asked;
  try {
    const reply = await fetch(base + '/' + file);
    if (!reply.ok) return;
    const figure = await new Response(reply.body.pipeThrough(new DecompressionStream('gzip'))).json();
    if (ticket !== asked) return;  /* a newer chart was asked for meanwhile */
    shownFile = file;
    draw(figure);
    root.dataset.version = state.version;
  } catch (err) { /* the next state tries again */ }
}

draw(initial);
const host = window.parent;
const listener = event => onState(event.detail);
host.addEventListener('dcgan-follow-state', listener);
window.addEventListener('pagehide', () => host.removeEventListener('dcgan-follow-state', listener));
if (host.__dcganFollow && host.__dcganFollow.state) onState(host.__dcganFollow.state);
"""


def follow_chart_height(figure_dict: dict, default: int = 450) -> int:
    """The iframe's height: the figure's own, as Streamlit's chart element would give it."""
    return int((figure_dict.get("layout") or {}).get("height") or default)


def follow_chart_html(
    figure_json: str, key: str, page: str, lang: str, base_url: str, plotly_url: str, height: int
) -> str:
    """The chart's page: ``figure_json`` first, then the teacher's newer charts of ``key`` from
    ``base_url`` while the teacher presents ``page`` with charts in ``lang`` (a follower reading
    another language waits for its own page run instead)."""
    initial = figure_json.replace("</", "<\\/")  # nothing in the JSON may close the script tag
    named = (("key", key), ("page", page), ("lang", lang), ("base", base_url))
    attrs = " ".join(f'data-{name}="{html.escape(value, quote=True)}"' for name, value in named)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<style>html,body{margin:0;background:transparent;overflow:hidden}</style>"
        f'<script src="{html.escape(plotly_url, quote=True)}"></script></head><body>'
        f'<div id="chart" {attrs} style="width:100%;height:{height}px"></div>'
        f'<script type="application/json" id="initial">{initial}</script>'
        f"<script>{_JS}</script></body></html>"
    )
