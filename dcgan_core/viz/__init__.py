"""Pure figure builders: Plotly figures, numpy images and GIF bytes. No Streamlit."""
