"""Streamlit side of a class: presenting, following the teacher, and the "predict first"
questions. The state lives in dcgan_core.classroom, the questions in dcgan_core.questions;
this module draws them and moves the session's widget state.

app.py calls ``before_page`` (follow: switch lesson, copy the teacher's settings; present: share
this lesson's settings) and ``publish`` after the lesson; each convolution lesson calls ``question_block``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

import ui
from dcgan_core import questions
from dcgan_core.classroom import (
    CATCH_UP_PATIENCE_S,
    FOLLOW_CHECK_S,
    FOLLOW_MAX_STALE_S,
    FOLLOW_SETTLE_S,
    PRESENCE_S,
    get_classroom,
)
from dcgan_core.i18n import LabError
from dcgan_core.static_files import PLOTLY_JS, STATIC_DIR, ensure_plotly_js
from dcgan_core.viz.follow_chart import follow_chart_height, follow_chart_html
from dcgan_core.viz.frozen import figure_json
from dcgan_core.viz.instant_chart import INSTANT_CHART_JS, instant_chart_data, neighbour_values

HEARTBEAT_S = 2.0  # how often the presenting page says it is still open
ANSWERS_REFRESH_S = 1.0

# What a presenting teacher shares, per lesson: the keys under which each page keeps its main settings.
SHARED_SETTINGS = {
    "output_size": ("os_mode", "os_preset", "os_i", "os_k", "os_s", "os_p", "os_d", "os_a", "os_rf_row", "os_rf_col"),
    "conv_matrix": ("cm_h", "cm_w", "cm_k", "cm_s", "cm_p", "cm_d", "cm_seed", "cm_integers", "cm_row"),
    "transposed_conv": (
        "tc_preset",
        "tc_i",
        "tc_k",
        "tc_s",
        "tc_p",
        "tc_d",
        "tc_a",
        "tc_seed",
        "tc_integers",
        "tc_stage",
    ),
    "checkerboard": ("cb_k", "cb_s", "cb_layers", "cb_n", "cb_dims", "cb_edges", "cb_kernel", "cb_seed"),
    "architecture": ("arch_size", "arch_channels", "arch_nz", "arch_ngf", "arch_ndf"),
    "latent_space": ("generator_choice", "ls_grid_seed", "ls_sweep_seed", "ls_path", "ls_corners", "ls_target"),
    "vector_arithmetic": ("generator_choice", "va_preset", "va_A", "va_B", "va_C", "va_grid_seed", "va_noise_seed"),
    "discriminator": ("disc_source", "disc_bn", "disc_plain"),
    "quality": ("generator_choice", "q_count", "q_seed", "q_space"),
    "guidelines_lab": ("lab_variant",),
}
JSON_TYPES = (bool, int, float, str)


_ANNOUNCED = threading.Event()


def announce_teacher_code() -> None:
    """Once per server: make the teacher code and print it in the terminal (in the background,
    because the registry it shares its code alphabet with imports torch)."""
    if not _ANNOUNCED.is_set():
        _ANNOUNCED.set()
        threading.Thread(target=get_classroom().teacher_code, name="teacher-code", daemon=True).start()


def _question_keys(lesson: str) -> tuple[str, str]:
    return f"pq_{lesson}_source", f"pq_{lesson}_seed"


def shared_keys(stem: str) -> tuple[str, ...]:
    extra = _question_keys(stem) if stem in questions.LESSONS else ()
    return SHARED_SETTINGS.get(stem, ()) + extra


def browser_id() -> str:
    """A random id for this browser session: counts followers and keeps one answer per browser, names nobody."""
    if "classroom_id" not in st.session_state:
        st.session_state.classroom_id = secrets.token_hex(8)
    return st.session_state.classroom_id


def lesson_title(stem: str) -> str:
    for entries in ui.PAGES.values():
        for path, title_key, _ in entries:
            if path == f"pages/{stem}.py":
                return ui.t(title_key)
    return stem


PRESENTER_COOKIE = "dcgan_lab_presenter"


def presenter_token() -> str | None:
    """This browser's presenting token: from this session, or from the cookie this browser was
    given when it started presenting (so the teacher's F5 keeps presenting; a copied URL gives nothing)."""
    token = st.session_state.get("presenter_token")
    if token is None:
        remembered = ui.browser_cookie(PRESENTER_COOKIE)
        if remembered and get_classroom().is_presenting(remembered):
            st.session_state.presenter_token = token = remembered
    return token


def is_presenting() -> bool:
    return get_classroom().is_presenting(presenter_token())


def is_following() -> bool:
    return bool(st.session_state.get("follow_on")) and not is_presenting()


# ---------------------------------------------------------------- following


def _address_query(following: bool) -> dict:
    query = {"lang": ui.current_language()}
    if following:
        query["follow"] = "1"
    return query


def keep_follow_in_address() -> None:
    """?follow=1 stays in the address bar while following, so F5 and a copied link keep following."""
    wanted = "1" if st.session_state.get("follow_on") else None
    if st.query_params.get("follow") != wanted:
        if wanted:
            st.query_params["follow"] = wanted
        else:
            del st.query_params["follow"]


def _apply_settings(settings: dict) -> None:
    """The teacher's values under the plain keys; a widget with translated options copies its
    plain key into its own (ui.language_keyed) when the lesson draws it."""
    for key, value in settings.items():
        st.session_state[key] = value


def _follow(stem: str, pages: dict) -> None:
    """On a full run of a follower's page: stay on the teacher's lesson, and take its settings
    each time the teacher changed something. (Another lesson is one "Step away" click away.)"""
    room = get_classroom()
    st.session_state.follow_seen_version = room.version()  # a full run shows the newest: no catch-up rerun
    st.session_state.follow_seen_at = time.monotonic()
    presentation = room.presentation()
    st.session_state.follow_shown = presentation
    if presentation is None or st.session_state.get("follow_away"):
        return
    if st.session_state.get("follow_applied") != presentation.version:
        st.session_state.follow_applied = presentation.version
        st.session_state.follow_pending = (presentation.page, presentation.settings)
    if presentation.page in pages and presentation.page != stem:
        st.switch_page(pages[presentation.page], query_params=_address_query(True))
    pending = st.session_state.pop("follow_pending", None)
    if pending is not None and pending[0] == stem:
        _apply_settings(pending[1])


def step_away() -> None:
    st.session_state.follow_away = True


def come_back() -> None:
    st.session_state.follow_away = False
    st.session_state.pop("follow_applied", None)  # catch up on everything at once,
    st.session_state.follow_rejoin = True  # in a full run (the button's own run is the fragment's)


def follow_changed() -> None:
    st.session_state.follow_away = False
    st.session_state.pop("follow_applied", None)
    if not st.session_state.follow_on:
        get_classroom().follower_left(browser_id())


# The follower's browser polls the classroom's state file (dcgan_core.classroom.VersionBeacon) and
# hands each state to the lesson charts on the page (lesson_chart), which redraw the teacher's
# charts themselves. It asks for a full run of its page at once only when the teacher's lesson or
# question changed (or the page has no such chart); a change of settings alone brings the sliders
# and text along once the teacher left them alone for a moment, or after a while at the latest.
_WATCH_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  const watch = (window.__dcganFollow = window.__dcganFollow || { timer: null, asked: 0 });
  if (data.seen !== watch.rendered) {  // this render is the page run we asked for
    watch.asked = 0;
    watch.firstUnseen = null;  // what it shows is new: the next catch-up waits its turn again
  }
  Object.assign(watch, { url: data.url, seen: data.seen, rendered: data.seen, every: data.every_ms,
                         patience: data.patience_ms, settle: data.settle_ms, stale: data.stale_ms,
                         shown: data.shown, charts: data.charts, lang: data.lang, trigger: setTriggerValue });
  const tick = async () => {
    try {
      const reply = await fetch(watch.url + "?t=" + Date.now(), { cache: "no-store" });
      if (reply.ok) {
        const state = await reply.json();
        const now = Date.now();
        if (!watch.state || watch.state.version !== state.version) watch.changed = now;
        watch.state = state;
        window.dispatchEvent(new CustomEvent("dcgan-follow-state", { detail: state }));
        if (state.version === watch.seen) {
          watch.firstUnseen = null;
        } else {
          if (watch.firstUnseen == null) watch.firstUnseen = now;
          const shown = watch.shown || {};
          const elsewhere = !watch.charts || state.page !== shown.page || state.question !== shown.question
                            || state.revealed !== shown.revealed || state.lang !== watch.lang;
          const settle = state.settle_ms ?? watch.settle;  // the server's word: 0 in a small class
          const due = elsewhere || now - watch.changed >= settle || now - watch.firstUnseen >= watch.stale;
          // Ask for one page run at a time: a new request would cut the running one short, and
          // with a class on a busy server no run would ever finish.
          if (due && now - watch.asked > watch.patience) {
            watch.asked = now;
            watch.trigger("changed", state.version);
          }
        }
      }
    } catch (err) {
      /* the server is restarting, or busy: ask again at the next tick */
    }
    watch.timer = setTimeout(tick, watch.every);
  };
  if (watch.timer === null) watch.timer = setTimeout(tick, watch.every);
  return () => {
    clearTimeout(watch.timer);
    watch.timer = null;
  };
}
"""
_follow_watch = st.components.v2.component("dcgan_lab_follow_watch", js=_WATCH_JS)


def _mirroring() -> bool:
    """Does this page draw its lesson charts from the teacher's (a follower, not stepped away)?"""
    return is_following() and not st.session_state.get("follow_away") and get_classroom().beacon is not None


@dataclass(frozen=True)
class SliderFrames:
    """The lesson chart at nearby values of one slider (``figure_at(value)``, everything else as it
    is now; None or a LabError where the lesson shows no such chart), drawn by the browser the
    moment a student moves that slider (dcgan_core.viz.instant_chart)."""

    key: str  # the st.slider's key
    low: int
    high: int
    figure_at: Callable
    radius: int = 2


def frames_per_slider(ranges: dict, now: dict, chart: Callable) -> list[SliderFrames]:
    """SliderFrames for each slider of ``ranges`` (key -> (low, high)): ``chart(*values)`` with that
    slider at another value and every setting of ``now`` (key -> value, in ``chart``'s order) as it is."""

    def at(key):
        return lambda value: chart(*(now | {key: value}).values())

    return [SliderFrames(key, low, high, at(key)) for key, (low, high) in ranges.items()]


_instant_chart = st.components.v2.component("dcgan_lab_instant_chart", js=INSTANT_CHART_JS, isolate_styles=False)


@st.cache_resource(show_spinner=False)
def _shared_plotly_js() -> str:
    """plotly.js in the static folder, once per server: every instant chart loads it from there."""
    ensure_plotly_js(STATIC_DIR)
    return ui.static_url(PLOTLY_JS)


def _nearby_figures(frames: SliderFrames) -> dict:
    value = st.session_state[frames.key]
    nearby = {}
    for candidate in neighbour_values(value, frames.low, frames.high, frames.radius):
        try:
            figure = frames.figure_at(candidate)
        except LabError:
            continue
        if figure is not None:
            nearby[candidate] = figure
    return nearby


def _slider_in_play(key: str, sliders: list[SliderFrames]) -> SliderFrames:
    """The slider of chart ``key`` that the student moved last (the first one until then): the page
    sends the chart ahead for that one only, so a move costs the server about one new chart."""
    values = {frames.key: st.session_state[frames.key] for frames in sliders}
    seen = st.session_state.setdefault("instant_chart_values", {})
    in_play = st.session_state.setdefault("instant_chart_slider", {})
    before = seen.get(key, {})
    moved = [name for name, value in values.items() if name in before and before[name] != value]
    seen[key] = values
    if len(moved) == 1:  # one slider moved by the student (a preset moves several)
        in_play[key] = moved[0]
    return next((frames for frames in sliders if frames.key == in_play.get(key)), sliders[0])


def _instant_chart_element(figure, key: str, where, sliders: list[SliderFrames], config: dict | None) -> None:
    try:
        plotly_url = _shared_plotly_js()
    except OSError:  # a read-only checkout: Streamlit's own chart, redrawn by each page run
        where.plotly_chart(figure, key=key, config=config)
        return
    frames = _slider_in_play(key, sliders)
    data = instant_chart_data(
        key,
        figure,
        {frames.key: (st.session_state[frames.key], _nearby_figures(frames))},
        plotly_url,
        follow_chart_height(figure.to_dict()),
        ui.t("common.chart_load_error"),
        config,
    )
    with where.container(key=key):
        _instant_chart(key=f"{key}_instant", data=data)


def lesson_chart(figure, key: str, where=None, instant: list[SliderFrames] | None = None, **kwargs) -> None:
    """A lesson's chart. A presenting teacher shares it with the class; a follower's browser
    redraws it from the teacher's as the teacher changes things (dcgan_core.viz.follow_chart).
    Anyone else gets Streamlit's chart (``kwargs`` are st.plotly_chart's), or, with ``instant``
    sliders, a chart the browser redraws itself as the slider in play moves (only ``config`` is used)."""
    where = where if where is not None else st
    room = get_classroom()
    token = presenter_token()
    if token and room.is_presenting(token):
        path = room.share_figure(token, figure_json(figure))
        if path is not None:
            st.session_state.setdefault("classroom_charts", {})[key] = path
    if not _mirroring():
        if instant:
            _instant_chart_element(figure, key, where, instant, kwargs.get("config"))
        else:
            where.plotly_chart(figure, key=key, **kwargs)
        return
    st.session_state.setdefault("classroom_mirrored", set()).add(key)
    shown = st.session_state.get("follow_shown")
    height = follow_chart_height(figure.to_dict())
    html = follow_chart_html(
        figure_json(figure),
        key,
        shown.page if shown else "",
        ui.current_language(),
        ui.static_url(f"{room.beacon.root.name}/{room.beacon.folder.name}"),
        ui.static_url(room.beacon.plotly_path),
        height,
    )
    with where.container(key=f"{key}_follow"):
        st.iframe(html, height=height + 4)


def _watch_teacher() -> None:
    """The browser-side check: a static file request every FOLLOW_CHECK_S, no script run."""
    room = get_classroom()
    if room.beacon is None:
        return
    shown = st.session_state.get("follow_shown")
    with st.container(key="follow_watch_box", height=1, border=False):
        _follow_watch(
            key="follow_watch",
            data={
                "url": ui.static_url(room.beacon.relative_path),
                "seen": st.session_state.get("follow_applied", room.version()),
                "every_ms": int(FOLLOW_CHECK_S * 1000),
                "patience_ms": int(CATCH_UP_PATIENCE_S * 1000),
                "settle_ms": int(FOLLOW_SETTLE_S * 1000),
                "stale_ms": int(FOLLOW_MAX_STALE_S * 1000),
                "shown": {
                    "page": shown.page if shown else None,
                    "question": shown.question_id if shown else None,
                    "revealed": shown.revealed if shown else False,
                },
                "charts": bool(st.session_state.get("classroom_mirrored")),
                "lang": ui.current_language(),
            },
            on_changed_change=lambda: None,
            height=1,
        )


@st.fragment(run_every=PRESENCE_S)
def _follow_status() -> None:
    """Every PRESENCE_S: say we are here (the teacher's follower count), and catch up if the
    browser-side check missed a change (no static serving, a blocked request)."""
    room = get_classroom()
    away = bool(st.session_state.get("follow_away"))
    room.follower_seen(browser_id(), stepped_away=away)
    if st.session_state.pop("follow_rejoin", False):
        st.rerun(scope="app")
    version = room.version()
    # The browser's watch catches up (and, with lesson charts, at its own pace); this check only
    # steps in when that watch has been silent for CATCH_UP_PATIENCE_S (no static serving).
    overdue = room.beacon is None or time.monotonic() - st.session_state.get("follow_seen_at", 0) > CATCH_UP_PATIENCE_S
    if not away and version != st.session_state.get("follow_seen_version") and overdue:
        st.session_state.follow_seen_version = version
        st.rerun(scope="app")
    presentation = room.presentation()
    if presentation is None:
        st.caption(ui.t("classroom.waiting"))
    elif away:
        st.caption(ui.t("classroom.stepped_away", lesson=lesson_title(presentation.page)))
        st.button(ui.t("classroom.back"), on_click=come_back, key="follow_back", icon=":material/undo:", type="primary")
    else:
        st.caption(ui.t("classroom.following", lesson=lesson_title(presentation.page)))
        if st.session_state.get("follow_has_charts") and room.page_settle_ms() > 0:
            st.caption(ui.t("classroom.following_big_class"))
        st.button(
            ui.t("classroom.step_away"),
            on_click=step_away,
            key="follow_step_away",
            icon=":material/directions_walk:",
        )


# ---------------------------------------------------------------- presenting


def _start_presenting() -> None:
    try:
        st.session_state.presenter_token = get_classroom().start_presenting(st.session_state.get("teacher_code"))
        st.session_state.follow_on = False
        st.session_state.pop("presenting_error", None)
    except LabError as err:
        st.session_state.presenting_error = err.key
    st.session_state.teacher_code = ""


def _stop_presenting() -> None:
    get_classroom().stop_presenting(presenter_token())
    st.session_state.pop("presenter_token", None)


@st.fragment(run_every=HEARTBEAT_S)
def _presenting_status() -> None:
    room = get_classroom()
    if not room.heartbeat(presenter_token()):
        st.session_state.pop("presenter_token", None)
        st.session_state.presenting_error = "classroom.presenting_lost"
        st.rerun(scope="app")
    following, away = room.follower_counts()
    st.caption(ui.t("classroom.presenting"))
    st.markdown(f"**{ui.t('classroom.followers', following=following, away=away)}**")


def sidebar() -> None:
    """The sidebar's classroom box: follow the teacher, or (with the teacher code) present."""
    with st.sidebar:
        st.markdown(f"**{ui.t('classroom.sidebar_title')}**")
        if is_presenting():
            ui.remember_in_browser(PRESENTER_COOKIE, presenter_token(), ui.t("classroom.presenter_cookie_name"))
            _presenting_status()
            st.button(
                ui.t("classroom.stop_presenting"),
                on_click=_stop_presenting,
                key="presenting_stop",
                icon=":material/cancel_presentation:",
            )
            return
        st.session_state.pop("presenter_token", None)
        st.toggle(
            ui.t("classroom.follow"), key="follow_on", on_change=follow_changed, help=ui.t("classroom.follow_help")
        )
        if st.session_state.follow_on:
            _follow_status()
        with st.expander(
            ui.t("classroom.teach"), icon=":material/co_present:", expanded="presenting_error" in st.session_state
        ):
            st.text_input(ui.t("classroom.code"), key="teacher_code", type="password", help=ui.t("classroom.code_help"))
            st.button(
                ui.t("classroom.start_presenting"),
                on_click=_start_presenting,
                key="presenting_start",
                icon=":material/present_to_all:",
            )
            if "presenting_error" in st.session_state:
                st.error(ui.t(st.session_state.presenting_error))


def before_page(stem: str, pages: dict) -> None:
    """Before the lesson runs: the ?follow=1 link, the sidebar box, and catching up with the teacher."""
    if "follow_on" not in st.session_state:
        st.session_state.follow_on = st.query_params.get("follow") in ("1", "true", "yes")
    keep_follow_in_address()
    st.session_state.classroom_charts = {}  # filled by lesson_chart as the lesson runs
    st.session_state.classroom_mirrored = set()
    following = is_following()
    if following:  # before the sidebar's status: it must see the version this run shows
        _follow(stem, pages)
    sidebar()
    publish(stem)


def after_page(stem: str) -> None:
    """After the lesson ran (also after st.stop()): publish what it drew, and a follower's watch,
    which needs to know whether the lesson drew charts it can redraw by itself."""
    publish(stem, st.session_state.get("classroom_charts", {}))
    st.session_state.follow_has_charts = bool(st.session_state.get("classroom_mirrored"))
    if is_following() and not st.session_state.get("follow_away"):
        with st.sidebar:
            _watch_teacher()


def publish(stem: str, charts: dict | None = None) -> None:
    """A presenting teacher publishes its lesson, settings, question and (after the lesson) its
    charts. app.py calls it before the lesson runs (a moved slider's new value is already in the
    session: followers need not wait for the teacher's page to finish) and after (a lesson's first
    visit sets its defaults as it runs, and its charts are drawn)."""
    token = presenter_token()
    if not token:
        return
    settings = {
        key: st.session_state[key]
        for key in shared_keys(stem)
        if key in st.session_state and isinstance(st.session_state[key], JSON_TYPES)
    }
    asked = st.session_state.get("classroom_question")
    question_id = asked[1] if asked and asked[0] == stem else None
    get_classroom().publish(token, stem, settings, question_id, charts, ui.current_language())


# ---------------------------------------------------------------- "predict first" questions


def current_config(lesson: str) -> dict:
    """The lesson's current settings, as the question generator names them."""
    ss = st.session_state
    if lesson == "output_size":
        mode = ss.os_mode
        return {
            "mode": mode,
            "i": ss.os_i,
            "k": ss.os_k,
            "s": ss.os_s,
            "p": ss.os_p,
            "d": 1 if mode == "pool" else ss.os_d,
            "a": ss.os_a if mode == "transposed" else 0,
        }
    if lesson == "conv_matrix":
        return {
            "h": ss.cm_h,
            "w": ss.cm_w,
            "k": ss.cm_k,
            "s": ss.cm_s,
            "p": ss.cm_p,
            "d": ss.cm_d,
            "cell": ss.get("cm_row", 0),
        }
    if lesson == "transposed_conv":
        return {"i": ss.tc_i, "k": ss.tc_k, "s": ss.tc_s, "p": ss.tc_p, "d": ss.tc_d, "a": ss.tc_a}
    if lesson == "checkerboard":
        return {"k": ss.cb_k, "s": ss.cb_s}
    raise ValueError(f"no questions for lesson {lesson!r}")


def choice_label(choice: questions.Choice) -> str:
    return ui.t(choice.label_key, **choice.params)


def _new_question(seed_key: str) -> None:
    st.session_state[seed_key] += 1


def _check_answer(question: questions.Question, radio_key: str, in_class: bool) -> None:
    chosen = st.session_state.get(radio_key)
    if chosen is None:
        st.session_state.pq_pick_first = question.id
        return
    st.session_state.setdefault("pq_answers", {})[question.id] = chosen
    if in_class:
        get_classroom().submit_answer(question.id, browser_id(), chosen)


def _reveal(question_id: str) -> None:
    get_classroom().reveal(presenter_token(), question_id)


def _show_answer(question: questions.Question, chosen: str | None) -> None:
    answer = choice_label(question.choice(question.answer))
    if chosen is None:
        st.info(ui.t("classroom.answer_is", answer=answer), icon=":material/lightbulb:")
    elif question.is_right(chosen):
        st.success(ui.t("classroom.right", answer=answer), icon=":material/check_circle:")
    else:
        st.error(
            ui.t("classroom.wrong", chosen=choice_label(question.choice(chosen)), answer=answer),
            icon=":material/cancel:",
        )
    st.markdown(ui.t(question.explanation_key, **question.explanation_params))
    if question.formula:
        st.latex(question.formula)


@st.fragment(run_every=ANSWERS_REFRESH_S)
def _class_answers(question: questions.Question) -> None:
    """The teacher's live chart of the class's answers (anonymous counts)."""
    from dcgan_core.viz.answers import answers_figure

    room = get_classroom()
    counts = room.answer_counts(question.id)
    presentation = room.presentation()
    revealed = bool(presentation and presentation.revealed and presentation.question_id == question.id)
    values = [choice.value for choice in question.choices]
    st.caption(ui.t("classroom.class_answers", count=sum(counts.values())))
    figure = answers_figure(
        [choice_label(c) for c in question.choices],
        [counts.get(v, 0) for v in values],
        right=values.index(question.answer) if revealed else None,
        height=200,
    )
    st.plotly_chart(figure, key=f"pq_chart_{question.id}", config={"displayModeBar": False, "staticPlot": True})


def question_block(lesson: str) -> None:
    """A "predict first" question on this lesson: answered before the answer is shown, with the
    explanation after. While a teacher presents, followers' answers are pooled and the teacher
    reveals the answer on every screen at once."""
    source_key, seed_key = _question_keys(lesson)
    st.session_state.setdefault(source_key, "random")
    st.session_state.setdefault(seed_key, 0)
    lang = ui.current_language()
    with st.container(border=True, key=f"pq_{lesson}"):
        st.markdown(f"**{ui.t('classroom.predict_title')}**")
        sources = {"random": ui.t("classroom.source_random"), "current": ui.t("classroom.source_current")}
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.radio(
            ui.t("classroom.source"),
            list(sources),
            format_func=sources.get,
            horizontal=True,
            **ui.language_keyed(source_key),
        )
        right.button(
            ui.t("classroom.new_question"),
            on_click=_new_question,
            args=(seed_key,),
            key=f"pq_{lesson}_new",
            icon=":material/casino:",
            use_container_width=True,
        )
        seed = int(st.session_state[seed_key])
        try:
            config = (
                questions.random_config(lesson, seed)
                if st.session_state[source_key] == "random"
                else current_config(lesson)
            )
            question = questions.make_question(lesson, questions.kind_for(lesson, seed), config, seed)
        except LabError as err:  # the lesson's own settings are invalid: the lesson says why
            st.session_state.classroom_question = None
            ui.show_error(err)
            return
        st.session_state.classroom_question = (lesson, question.id)
        st.markdown(ui.t(question.prompt_key, **question.prompt_params))

        room = get_classroom()
        if is_presenting():
            presentation = room.presentation()
            revealed = bool(presentation and presentation.revealed and presentation.question_id == question.id)
            choices, chart = st.columns([2, 3])
            choices.markdown("\n".join(f"- {choice_label(c)}" for c in question.choices))
            if not revealed:
                choices.button(
                    ui.t("classroom.reveal"),
                    on_click=_reveal,
                    args=(question.id,),
                    key=f"pq_reveal_{lesson}",
                    icon=":material/visibility:",
                    type="primary",
                )
            with chart:
                _class_answers(question)
            if revealed:
                _show_answer(question, None)
            return

        presentation = room.presentation() if is_following() and not st.session_state.get("follow_away") else None
        in_class = bool(presentation and presentation.question_id == question.id)
        revealed = in_class and presentation.revealed
        chosen = st.session_state.get("pq_answers", {}).get(question.id)
        labels = {c.value: choice_label(c) for c in question.choices}
        radio_key = f"pq_choice_{question.id}_{lang}"
        if chosen is not None and radio_key not in st.session_state:
            st.session_state[radio_key] = chosen
        st.radio(
            ui.t("classroom.your_answer"),
            list(labels),
            format_func=labels.get,
            key=radio_key,
            index=None,
            disabled=chosen is not None or revealed,
            horizontal=True,
        )
        if chosen is None and not revealed:
            st.button(
                ui.t("classroom.check"),
                on_click=_check_answer,
                args=(question, radio_key, in_class),
                key=f"pq_check_{lesson}",
                icon=":material/task_alt:",
            )
            if st.session_state.get("pq_pick_first") == question.id:
                st.warning(ui.t("classroom.pick_first"))
        elif in_class and not revealed:
            st.info(ui.t("classroom.answer_in"), icon=":material/how_to_vote:")
        else:
            _show_answer(question, chosen)
