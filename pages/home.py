import streamlit as st

import ui

st.title(ui.t("home.title"))
st.markdown(ui.t("home.intro"))
st.subheader(ui.t("home.path_title"))
st.markdown(ui.t("home.path"))
st.caption(ui.t("home.credits"))
