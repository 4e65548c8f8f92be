"""Streamlit helpers shared by every page: language, translated text, errors,
verification badges. Logic lives in dcgan_core; this module only displays."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dcgan_core.i18n import LANGUAGES, LabError, language_from_accept_language, language_from_locale, translate
from dcgan_core.static_files import URL_PREFIX

ROOT = Path(__file__).resolve().parent


def _leave_legacy_pages_mode() -> None:
    """A fresh server treats a `pages/` folder as Streamlit's old multipage mode
    until app.py first calls st.navigation, so a deep link opened first
    (e.g. /train shared with a class) would run that page bare, without app.py.
    Switch the mode off and rerun, so app.py builds the navigation and routes.
    Nothing public does this in Streamlit 1.67: the docs say the pages/ folder is ignored only
    once some session has called st.navigation, and client.showSidebarNavigation only hides the
    legacy sidebar list (it does not change routing)."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # internal module moved: the quirk is someone else's now
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# Navigation: section key -> [(page file, title key, icon)].
PAGES = {
    "nav.section_start": [
        ("pages/home.py", "nav.home", ":material/home:"),
    ],
    "nav.section_conv": [
        ("pages/output_size.py", "nav.output_size", ":material/straighten:"),
        ("pages/conv_matrix.py", "nav.conv_matrix", ":material/grid_on:"),
        ("pages/transposed_conv.py", "nav.transposed", ":material/open_in_full:"),
        ("pages/checkerboard.py", "nav.checkerboard", ":material/grid_4x4:"),
    ],
    "nav.section_dcgan": [
        ("pages/architecture.py", "nav.architecture", ":material/account_tree:"),
        ("pages/train.py", "nav.train", ":material/model_training:"),
    ],
    "nav.section_explore": [
        ("pages/latent_space.py", "nav.latent_space", ":material/scatter_plot:"),
        ("pages/vector_arithmetic.py", "nav.vector_arithmetic", ":material/calculate:"),
        ("pages/discriminator.py", "nav.discriminator", ":material/visibility:"),
        ("pages/quality.py", "nav.quality", ":material/analytics:"),
        ("pages/guidelines_lab.py", "nav.guidelines_lab", ":material/science:"),
    ],
}


def browser_cookie(name: str) -> str | None:
    """A cookie this browser sent with the page request; None without a browser (AppTest)."""
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no browser request behind this session
        return None
    return value if isinstance(value, str) else None


def remember_in_browser(name: str, value: str, alt: str) -> None:
    """A cookie for this site only, set by a tiny same-origin frame (Streamlit cannot set one itself),
    so F5 keeps what it remembers while a copied URL, opened in another browser, carries nothing.
    Drawn on every full run until this session's request carried it: a frame removed by a quick
    rerun before its script ran would otherwise leave no cookie."""
    if browser_cookie(name) == value:
        return
    cookie = f"{name}={value}; path=/; SameSite=Strict"
    st.iframe(f"<script>window.parent.document.cookie = {cookie!r};</script>", height=1, alt=alt)


def browser_language() -> str:
    """The reader's own language: the browser's Accept-Language, else its locale, else English."""
    try:
        header = st.context.headers.get("Accept-Language")
    except Exception:  # no browser context (AppTest, bare mode)
        header = None
    if header:
        return language_from_accept_language(header)
    try:
        locale = st.context.locale
    except Exception:
        locale = None
    return language_from_locale(locale)


def current_language() -> str:
    if "lang" not in st.session_state:
        requested = st.query_params.get("lang")  # a shared link may name it: ?lang=zh
        st.session_state.lang = requested if requested in LANGUAGES else browser_language()
    return st.session_state.lang


def keep_language_in_address() -> None:
    """?lang= stays in the address bar on every page: Streamlit clears the query string when the
    sidebar switches pages, so each run puts it back, and F5 or a copied link keeps the language."""
    lang = current_language()
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang


def language_selector() -> str:
    """Sidebar language switch. The choice lives under the plain key "lang",
    not the widget's own key, so it survives page changes (Streamlit drops the
    state of widgets a run does not draw) and a shared ?lang= link."""
    lang = current_language()

    def apply_choice():
        st.session_state.lang = st.session_state.lang_choice
        st.query_params["lang"] = st.session_state.lang

    st.session_state.lang_choice = lang
    st.sidebar.radio(
        "Language / 语言",
        options=list(LANGUAGES),
        format_func=LANGUAGES.get,
        key="lang_choice",
        horizontal=True,
        on_change=apply_choice,
    )
    keep_language_in_address()
    return st.session_state.lang


def t(key: str, **params) -> str:
    return translate(key, current_language(), **params)


def defaults(values: dict) -> None:
    """Give each session key its first value, once: what the reader has set since is kept."""
    for key, value in values.items():
        if key not in st.session_state:
            st.session_state[key] = value


def widget_key(name: str) -> str:
    """The key of a widget whose option texts are translated: one per language, because with a
    single key the browser keeps showing the old language's option (or none)."""
    return f"{name}__{current_language()}"


def language_keyed(name: str, on_change=None) -> dict:
    """`key` and `on_change` for a widget with translated option texts whose value lives under the
    plain session key `name` (it then survives a language switch). `on_change` runs after the copy."""
    key = widget_key(name)
    st.session_state[key] = st.session_state[name]

    def copy_from_widget() -> None:
        st.session_state[name] = st.session_state[key]
        if on_change is not None:
            on_change()

    return {"key": key, "on_change": copy_from_widget}


def clicked_points(chart_key: str) -> list[dict]:
    """The points a click selected on the Plotly chart drawn with `key=chart_key` (none: [])."""
    event = st.session_state.get(chart_key) or {}
    return list((event.get("selection") or {}).get("points") or [])


def clicked_tile(chart_key: str) -> int | None:
    """Index of the clicked tile of a picture grid (its customdata, else the point's index)."""
    points = clicked_points(chart_key)
    if not points:
        return None
    index = points[0].get("customdata", points[0].get("point_index"))
    if isinstance(index, list):
        index = index[0]
    return None if index is None else int(index)


def clicked_cell(chart_key: str) -> tuple[int, int] | None:
    """(row, col) of the clicked cell of a grid drawn with one cell per integer x and y."""
    points = clicked_points(chart_key)
    if not points:
        return None
    return int(round(points[0]["y"])), int(round(points[0]["x"]))


def show_error(err: Exception) -> None:
    """A sentence for the reader, never a traceback."""
    if isinstance(err, LabError):
        st.error(err.message(current_language()))
    else:
        st.error(t("common.unexpected_error", detail=str(err)))


def verification(max_error: float, tolerance: float = 1e-4, what: str = "") -> bool:
    """Show whether our result matches PyTorch's, with the max absolute error."""
    ok = max_error <= tolerance
    text = t("common.verified_ok" if ok else "common.verified_bad", error=f"{max_error:.2e}", what=what)
    (st.success if ok else st.error)(text, icon=":material/check_circle:" if ok else ":material/error:")
    return ok


def checkpoint_label(path: Path) -> str:
    from dcgan_core.model_source import PRETRAINED_PATH

    if path == PRETRAINED_PATH:
        return t("common.pretrained_model")
    return f"{path.parent.name}/{path.name}"


@st.cache_resource(max_entries=4, show_spinner=False)
def _load_generator(path: str, mtime: float):
    from dcgan_core.checkpoint import load_generator

    return load_generator(path)


def checkpoint_picker(key: str = "generator_choice", label: str = "common.model_choice") -> Path | None:
    """Sidebar choice of a checkpoint: the shipped one or the user's runs, kept under `key`
    (a path string) for every page that explores a trained model. None after saying there is none."""
    from dcgan_core.model_source import available_checkpoints

    names = [str(p) for p in available_checkpoints()]
    if not names:
        st.warning(t("common.no_checkpoint"))
        return None
    if st.session_state.get(key) not in names:
        st.session_state[key] = names[0]
    st.sidebar.selectbox(
        t(label),
        names,
        format_func=lambda name: checkpoint_label(Path(name)),
        **language_keyed(key),
    )
    return Path(st.session_state[key])


def generator_picker(key: str = "generator_choice"):
    """Sidebar choice of a trained generator: the shipped one or the user's runs.

    Returns (generator in eval mode, DCGANConfig, path) or None after showing why.
    """
    path = checkpoint_picker(key)
    if path is None:
        return None
    try:
        netG, cfg = _load_generator(str(path), path.stat().st_mtime)
    except Exception as err:  # a LabError from validation, or a file that vanished
        show_error(err)
        return None
    return netG, cfg, path


def model_cache_key(path: Path) -> str:
    """Names a checkpoint's contents for st.cache_data: a retrained file gets a new key."""
    return f"{path}:{path.stat().st_mtime_ns}"


@st.cache_data(max_entries=64, show_spinner=False)
def _generated(_netG, model_key: str, z):
    import torch  # lazily: the conv lessons and home page need no torch at start-up

    from dcgan_core.latent import generate

    return generate(_netG, torch.from_numpy(z)).numpy()


def render_generator(netG, model_key: str, z):
    """(N, nz) z's → (N, C, H, W) images in [-1, 1], cached per model and z."""
    import torch

    return torch.from_numpy(_generated(netG, model_key, z.float().contiguous().numpy()))


def static_url(relative: str) -> str:
    """The browser's address of a file under the app's static folder (server.enableStaticServing)."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return "/" + "/".join(part for part in (base, URL_PREFIX, relative) if part)


_leave_legacy_pages_mode()
