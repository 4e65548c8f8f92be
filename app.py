"""DCGAN Lab — entry point: `streamlit run app.py`."""
import os

# Before torch starts its OpenMP pool: on a busy laptop, spinning worker threads make
# training up to 15× slower (benchmarks/RESULTS.md, "Threads").
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402

import ui  # noqa: E402

st.set_page_config(page_title="DCGAN Lab", page_icon="🧪", layout="wide")
ui.language_selector()

pages = {
    ui.t(section): [st.Page(path, title=ui.t(title), icon=icon) for path, title, icon in entries if (ui.ROOT / path).exists()]
    for section, entries in ui.PAGES.items()
}
st.navigation({section: entries for section, entries in pages.items() if entries}).run()
