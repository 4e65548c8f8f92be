"""DCGAN Lab — entry point: `streamlit run app.py`."""
import streamlit as st

import ui

st.set_page_config(page_title="DCGAN Lab", page_icon="🧪", layout="wide")
ui.language_selector()

pages = {
    ui.t(section): [st.Page(path, title=ui.t(title), icon=icon) for path, title, icon in entries if (ui.ROOT / path).exists()]
    for section, entries in ui.PAGES.items()
}
st.navigation({section: entries for section, entries in pages.items() if entries}).run()
