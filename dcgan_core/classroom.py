"""Presenting and following: one teacher's lesson and settings, shared with a room.

A teacher unlocks presenting with the teacher code: $DCGAN_LAB_ADMIN_CODE when the server's
owner set it, otherwise a code generated when the server starts and printed in its terminal.
While presenting, the teacher's browser publishes its lesson, that lesson's main settings and
its current class question; every publication that changes something gets a new version
number, which followers compare to know when to catch up. Students follow without a code,
and following gives no control of anything: a follower only reads. Presenting ends when the
teacher stops, or when the teacher's browser has sent no heartbeat for PRESENTER_TIMEOUT_S.

Students' answers to the current question are pooled anonymously: one answer per browser
(a random id, never a name), counted per choice, and dropped when the question changes.

This module holds the state only (no Streamlit); ``classroom_ui`` draws it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import secrets
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from dcgan_core.i18n import LabError
from dcgan_core.static_files import (
    PLOTLY_JS,
    STATIC_DIR,
    padded,
    prepare_server_folder,
    server_folder_name,
    write_atomic,
)

PRESENTER_TIMEOUT_S = 30.0  # the teacher's page sends a heartbeat every 2 s; a busy server may delay a few
FOLLOW_CHECK_S = 1.0  # how often a follower's browser reads the beacon file (VersionBeacon)
CATCH_UP_PATIENCE_S = 20.0  # a follower asks again if the page run it asked for has not come by then
FOLLOW_SETTLE_S = 3.0  # in a big class, a follower's sliders and text catch up once the teacher left them this long...
FOLLOW_MAX_STALE_S = 15.0  # ...or at the latest this long after a change (its charts follow at once)
EAGER_FOLLOWERS_ENV = "DCGAN_LAB_EAGER_FOLLOWERS"
EAGER_FOLLOWERS = 5  # up to this many followers, each one's page catches up at every change
PRESENCE_S = 10.0  # how often a follower's page checks in, for the teacher's count
FOLLOWER_TIMEOUT_S = 2.5 * PRESENCE_S  # a follower silent this long has gone (closed the tab)
MAX_FOLLOWERS = 2000  # ids kept; older ones are forgotten first
ADMIN_CODE_ENV = "DCGAN_LAB_ADMIN_CODE"  # the same variable as dcgan_core.registry's
BEACON_FOLDER = "classroom"
FIGURE_FOLDER = "fig"
FIGURES_KEPT = 200  # a follower that read the state a little while ago still finds its charts
STATE_BLOCK = 4096


def eager_followers() -> int:
    """EAGER_FOLLOWERS, or the server owner's $DCGAN_LAB_EAGER_FOLLOWERS (a faster machine serves more)."""
    try:
        return max(0, int(os.environ.get(EAGER_FOLLOWERS_ENV, EAGER_FOLLOWERS)))
    except ValueError:
        return EAGER_FOLLOWERS


def normalise_token(token: str | None) -> str:
    from dcgan_core.registry import normalise_token as registry_normalise  # lazily: the registry imports torch

    return registry_normalise(token)


def new_token() -> str:
    from dcgan_core.registry import new_token as registry_new_token  # lazily: the registry imports torch

    return registry_new_token()


class VersionBeacon:
    """What followers' browsers need, as small static files rewritten at every change.

    ``version.json`` holds the version, the teacher's lesson, question and settings, and the
    teacher's lesson charts as file names. A follower's browser polls it (one static request a
    second, no script run) and redraws the charts it shows from those files itself
    (classroom_ui.lesson_chart); it asks for a full run of its page only when the lesson or the
    question changed, or now and then to bring its sliders and text along. Thirty followers then
    cost the server a few static requests per change instead of thirty page runs."""

    def __init__(self, folder: Path | None = None):
        self.root = Path(folder) if folder else STATIC_DIR / BEACON_FOLDER
        self.folder = self.root / server_folder_name()
        self._prepared = False
        self._lock = threading.Lock()
        self._figures: dict[str, None] = {}  # file names written, oldest first

    @property
    def relative_path(self) -> str:
        """The state file's path under the static folder, e.g. "classroom/123-ab12cd34/version.json"."""
        return f"{self.root.name}/{self.folder.name}/version.json"

    @property
    def plotly_path(self) -> str:
        """plotly.js under the static folder (static_files.prepare_server_folder), for the followers' charts."""
        return PLOTLY_JS

    def _prepare(self) -> None:
        if not self._prepared:
            prepare_server_folder(self.root, self.folder)
            (self.folder / FIGURE_FOLDER).mkdir(exist_ok=True)
            self._prepared = True

    def write(self, state: dict) -> None:
        """Replace the state file (``state`` holds at least "version")."""
        try:
            with self._lock:
                self._prepare()
                write_atomic(self.folder / "version.json", padded(json.dumps(state).encode(), STATE_BLOCK))
        except OSError as err:  # a read-only checkout: followers fall back to their slower check
            print(f"DCGAN Lab: could not write the classroom signal ({err})", file=sys.stderr, flush=True)

    def share_figure(self, figure_json: str) -> str | None:
        """Write a chart's JSON once, gzipped (a tenth of the bytes for thirty browsers to fetch; they
        unzip it themselves), named by its content; its path relative to ``folder``. The oldest of
        more than FIGURES_KEPT files are removed. None when it could not be written."""
        data = figure_json.encode()
        name = f"{hashlib.sha1(data).hexdigest()[:20]}.json.gz"
        try:
            with self._lock:
                self._prepare()
                if name not in self._figures:
                    write_atomic(self.folder / FIGURE_FOLDER / name, gzip.compress(data, 6, mtime=0))
                    while len(self._figures) >= FIGURES_KEPT:
                        old = next(iter(self._figures))
                        del self._figures[old]
                        (self.folder / FIGURE_FOLDER / old).unlink(missing_ok=True)
                self._figures.pop(name, None)
                self._figures[name] = None
        except OSError as err:
            print(f"DCGAN Lab: could not share a chart with followers ({err})", file=sys.stderr, flush=True)
            return None
        return f"{FIGURE_FOLDER}/{name}"


@dataclass(frozen=True)
class Presentation:
    """What followers see: the teacher's lesson, its settings, and the class question."""

    version: int
    page: str  # the lesson's url path, e.g. "output_size"
    settings: dict  # widget key -> JSON-able value
    question_id: str | None = None  # the question on the teacher's screen, if any
    revealed: bool = False  # the teacher has shown its answer to everyone
    figures: dict = field(default_factory=dict)  # chart key -> shared file (VersionBeacon.share_figure)
    lang: str | None = None  # the language the teacher's charts are drawn in


@dataclass
class _Presenter:
    token: str
    last_seen: float
    page: str = ""
    settings: dict = field(default_factory=dict)
    question_id: str | None = None
    revealed: bool = False
    figures: dict = field(default_factory=dict)
    figures_settings: dict = field(default_factory=dict)  # the settings the shared charts show
    lang: str | None = None
    version: int = 0


class Classroom:
    """The process-wide presenting state. Every method is safe to call from any session's thread."""

    def __init__(self, teacher_code: str | None = None, clock=time.monotonic, beacon: VersionBeacon | None = None):
        self._clock = clock
        self.beacon = beacon
        self._lock = threading.Lock()
        self._teacher_code = normalise_token(teacher_code) if teacher_code else None
        self._presenter: _Presenter | None = None
        self._version = 0  # never reset, so a new presentation is always news to a follower
        self._followers: dict[str, tuple[float, bool]] = {}  # follower id -> (last seen, stepped away)
        self._answers: dict[str, str] = {}  # respondent id -> choice, for the current question only

    # ---------------------------------------------------------------- the teacher code

    def teacher_code(self) -> str:
        """$DCGAN_LAB_ADMIN_CODE if set, else this server's generated code (made and printed once)."""
        admin = normalise_token(os.environ.get(ADMIN_CODE_ENV))
        if admin:
            return admin
        with self._lock:
            if self._teacher_code is None:
                self._teacher_code = new_token()
                print(
                    f"DCGAN Lab: the teacher code for presenting is {self._teacher_code} "
                    f"(set {ADMIN_CODE_ENV} to choose one)",
                    file=sys.stderr,
                    flush=True,
                )
            return self._teacher_code

    def is_teacher_code(self, code: str | None) -> bool:
        given = normalise_token(code)
        return bool(given) and secrets.compare_digest(given, self.teacher_code())

    # ---------------------------------------------------------------- presenting

    def start_presenting(self, code: str | None) -> str:
        """A presenter token for the browser that gave the teacher code; LabError otherwise.
        A second browser with the code takes over (the teacher moved to the projector's laptop)."""
        if not self.is_teacher_code(code):
            raise LabError("classroom.wrong_code")
        with self._lock:
            self._presenter = _Presenter(token=secrets.token_urlsafe(16), last_seen=self._clock())
            self._bump()
            return self._presenter.token

    def stop_presenting(self, token: str | None) -> None:
        with self._lock:
            if self._is_presenter(token):
                self._presenter = None
                self._answers.clear()
                self._bump()

    def is_presenting(self, token: str | None) -> bool:
        with self._lock:
            return self._is_presenter(token)

    def heartbeat(self, token: str | None) -> bool:
        """The teacher's page is still open. False when ``token`` no longer presents."""
        with self._lock:
            if not self._is_presenter(token):
                return False
            self._presenter.last_seen = self._clock()
            return True

    def publish(
        self,
        token: str | None,
        page: str,
        settings: dict,
        question_id: str | None = None,
        figures: dict | None = None,
        lang: str | None = None,
    ) -> bool:
        """Share the presenter's lesson, settings, question and charts (chart key -> shared file,
        drawn in ``lang``; None keeps the charts already shared for this lesson). Only the presenter
        may; returns whether it was accepted. A change of anything followers see bumps the version."""
        with self._lock:
            if not self._is_presenter(token):
                return False
            presenter = self._presenter
            presenter.last_seen = self._clock()
            settings = dict(settings)
            if figures is None:
                figures = presenter.figures if page == presenter.page else {}
                drawn_with = presenter.figures_settings if page == presenter.page else {}
            else:
                drawn_with = settings
            figures = dict(figures)
            lang = lang or presenter.lang
            shown = (presenter.page, presenter.settings, presenter.question_id, presenter.figures, presenter.lang)
            if (page, settings, question_id, figures, lang) != shown:
                if question_id != presenter.question_id:
                    presenter.revealed = False
                    self._answers.clear()
                presenter.page, presenter.settings, presenter.question_id = page, settings, question_id
                presenter.figures, presenter.figures_settings, presenter.lang = figures, drawn_with, lang
                self._bump()
            return True

    def share_figure(self, token: str | None, figure_json: str) -> str | None:
        """Write one of the presenter's charts for followers' browsers (only the presenter may:
        nobody else makes the server write a file); its path relative to the beacon's folder."""
        if self.beacon is None or not self.is_presenting(token):
            return None
        return self.beacon.share_figure(figure_json)

    def reveal(self, token: str | None, question_id: str) -> bool:
        """Show the current question's answer on every follower's screen."""
        with self._lock:
            if not self._is_presenter(token) or self._presenter.question_id != question_id:
                return False
            if not self._presenter.revealed:
                self._presenter.revealed = True
                self._bump()
            return True

    def presentation(self) -> Presentation | None:
        """The live presentation, or None when nobody presents (or the presenter went silent)."""
        with self._lock:
            if not self._alive():
                return None
            p = self._presenter
            return Presentation(
                version=p.version,
                page=p.page,
                settings=dict(p.settings),
                question_id=p.question_id,
                revealed=p.revealed,
                figures=dict(p.figures),
                lang=p.lang,
            )

    def version(self) -> int:
        """Changes whenever what followers should show changes (also written to the beacon, if any)."""
        with self._lock:
            self._alive()
            return self._version

    # ---------------------------------------------------------------- followers

    def follower_seen(self, follower_id: str, stepped_away: bool = False) -> None:
        with self._lock:
            self._followers.pop(follower_id, None)  # re-inserted last: the dict stays oldest-first
            self._followers[follower_id] = (self._clock(), stepped_away)
            while len(self._followers) > MAX_FOLLOWERS:
                del self._followers[next(iter(self._followers))]

    def follower_left(self, follower_id: str) -> None:
        with self._lock:
            self._followers.pop(follower_id, None)

    def follower_counts(self) -> tuple[int, int]:
        """(following now, stepped away) among the browsers seen in the last FOLLOWER_TIMEOUT_S."""
        with self._lock:
            return self._follower_counts()

    def _follower_counts(self) -> tuple[int, int]:
        now = self._clock()
        recent = [away for seen, away in self._followers.values() if now - seen <= FOLLOWER_TIMEOUT_S]
        return recent.count(False), recent.count(True)

    # ---------------------------------------------------------------- the class's answers

    def submit_answer(self, question_id: str, respondent_id: str, choice: str) -> bool:
        """Pool one browser's answer to the question on the teacher's screen (a later answer
        from the same browser replaces its first). False when that question is not up now."""
        with self._lock:
            if not self._alive() or self._presenter.question_id != question_id or self._presenter.revealed:
                return False
            self._answers[respondent_id] = choice
            return True

    def answer_counts(self, question_id: str) -> Counter:
        """How many browsers chose each choice of the current question (no ids: the pool is anonymous)."""
        with self._lock:
            if not self._alive() or self._presenter.question_id != question_id:
                return Counter()
            return Counter(self._answers.values())

    # ---------------------------------------------------------------- internals (lock held)

    def _is_presenter(self, token: str | None) -> bool:
        return self._alive() and bool(token) and secrets.compare_digest(str(token), self._presenter.token)

    def _alive(self) -> bool:
        """Is someone presenting? A presenter silent for PRESENTER_TIMEOUT_S is dropped here."""
        if self._presenter is None:
            return False
        if self._clock() - self._presenter.last_seen > PRESENTER_TIMEOUT_S:
            self._presenter = None
            self._answers.clear()
            self._bump()
            return False
        return True

    def _bump(self) -> None:
        self._version += 1
        if self._presenter is not None:
            self._presenter.version = self._version
        if self.beacon is not None:
            self.beacon.write(self._beacon_state())

    def _beacon_state(self) -> dict:
        """What a follower's browser reads: no token, no answers, nothing a follower may not see."""
        state = {"version": self._version, "page": None}
        p = self._presenter
        if p is not None:
            state.update(
                page=p.page,
                question=p.question_id,
                revealed=p.revealed,
                settings=p.settings,
                figures=p.figures,
                figures_settings=p.figures_settings,
                lang=p.lang,
                settle_ms=self._settle_ms(),
            )
        return state

    def page_settle_ms(self) -> int:
        """How long followers' pages now wait for the teacher to pause (0: they catch up at every change)."""
        with self._lock:
            return self._settle_ms()

    def _settle_ms(self) -> int:
        """How long followers' pages wait for the teacher to pause before catching up (their charts
        never wait). A small class costs the server little: every change, at once. Thirty page runs
        per change would not fit two cores (benchmarks/follow_load.py), so a big class waits."""
        following, _ = self._follower_counts()
        return 0 if following <= eager_followers() else int(FOLLOW_SETTLE_S * 1000)


_CLASSROOM = Classroom(beacon=VersionBeacon())


def get_classroom() -> Classroom:
    """The process-wide classroom (a module global: Streamlit reruns do not re-import modules)."""
    return _CLASSROOM
