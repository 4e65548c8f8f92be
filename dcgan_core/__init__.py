"""DCGAN Lab core: every formula, model and trainer the app uses. Never imports Streamlit."""
