"""DCGAN Lab — entry point: `streamlit run app.py`."""

import os

# Before torch starts its OpenMP pool: on a busy laptop, spinning worker threads make
# training up to 15× slower (benchmarks/RESULTS.md, "Threads").
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from dcgan_core.allocator import limit_retained_memory  # noqa: E402

limit_retained_memory()  # once per server: glibc gives freed memory back (dcgan_core/allocator.py)

import plotly.io  # noqa: E402
import streamlit as st  # noqa: E402

import classroom_ui  # noqa: E402
import ui  # noqa: E402

# The lessons' figures are frozen (dcgan_core/viz/frozen.py): Python's json encodes their ready
# dicts 3-4x faster than the orjson path, which cleans them again on every call (measured in
# benchmarks/chart_encoding.py).
plotly.io.json.config.default_engine = "json"

st.set_page_config(page_title="DCGAN Lab", page_icon="🧪", layout="wide")
ui.language_selector()
classroom_ui.announce_teacher_code()

pages, by_stem = {}, {}
for section, entries in ui.PAGES.items():
    for path, title, icon in entries:
        if (ui.ROOT / path).exists():
            page = st.Page(path, title=ui.t(title), icon=icon)
            pages.setdefault(ui.t(section), []).append(page)
            by_stem[os.path.splitext(os.path.basename(path))[0]] = page
current = st.navigation(pages)
stem = next(name for name, page in by_stem.items() if page is current)
classroom_ui.before_page(stem, by_stem)
try:
    current.run()
finally:  # also after st.stop(): the settings a teacher shows are published either way
    classroom_ui.after_page(stem)
