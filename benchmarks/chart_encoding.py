"""What one st.plotly_chart of a lesson figure costs the server, per session that draws it.

    python benchmarks/chart_encoding.py            # records to benchmarks/results/chart_encoding.jsonl
    python benchmarks/chart_encoding.py --quick --no-record

Streamlit turns a figure into its wire form with ``plotly.tools.return_figure_from_figure_or_data``
(``figure.to_dict()``) and ``plotly.io.to_json``, on every run of every session. A class that
follows the teacher draws the same cached figure thirty times a second; this measures that step
for the Output size lesson's two figures, plain and frozen (dcgan_core/viz/frozen.py), with
plotly's "json" engine and, when orjson is installed, its "orjson" engine. CPU time per chart.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import plotly.io as pio  # noqa: E402
import plotly.tools  # noqa: E402
from record import start_record  # noqa: E402

from dcgan_core.viz import sliding  # noqa: E402
from dcgan_core.viz.frozen import freeze  # noqa: E402

SETTINGS = [(5, 3, 2, 1), (12, 3, 1, 1), (16, 4, 2, 1)]  # (i, k, s, p): conv_arithmetic's and bigger


def figures() -> list:
    built = []
    for i, k, s, p in SETTINGS:
        built.append(sliding.sliding_window_figure(i, k, s, p, 1))
        built.append(sliding.receptive_field_figure(i, k, s, p, 1, 0, 0))
    return built


def wire_form_ms(figs: list, repeats: int) -> float:
    started = time.process_time()
    for _ in range(repeats):
        for fig in figs:
            pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True), validate=False)
    return 1000 * (time.process_time() - started) / (repeats * len(figs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 30")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    run = start_record("chart_encoding", argv)
    repeats = 3 if args.quick else 30
    engines = ["json"]
    try:
        import orjson  # noqa: F401

        engines.append("orjson")
    except ImportError:
        pass
    results = {}
    for engine in engines:
        pio.json.config.default_engine = engine
        plain = figures()
        results[f"plain_{engine}_ms"] = round(wire_form_ms(plain, repeats), 2)
        frozen = [freeze(fig) for fig in figures()]
        results[f"frozen_{engine}_ms"] = round(wire_form_ms(frozen, repeats), 2)
    figures_ = {"charts": len(SETTINGS) * 2, "repeats": repeats, "engines": engines, **results}
    if not args.no_record and not args.quick:
        figures_ = run.finish(figures_)["figures"]
    print(json.dumps(figures_))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
