"""Presenting and following (dcgan_core.classroom): who may publish, what is published,
what followers see, expiry when the teacher leaves, and the anonymous pool of answers."""

import dataclasses
import gzip
import json

import pytest

from dcgan_core import classroom as room_module
from dcgan_core.classroom import FOLLOWER_TIMEOUT_S, PRESENTER_TIMEOUT_S, Classroom, Presentation
from dcgan_core.i18n import LabError


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def room(clock, monkeypatch):
    monkeypatch.delenv(room_module.ADMIN_CODE_ENV, raising=False)
    return Classroom(teacher_code="ABC234", clock=clock)


def test_only_the_teacher_code_unlocks_presenting(room):
    for wrong in (None, "", "ABC235", "ABC2345", "XYZ"):
        with pytest.raises(LabError) as caught:
            room.start_presenting(wrong)
        assert caught.value.key == "classroom.wrong_code"
    assert room.presentation() is None
    token = room.start_presenting(" abc-234 ")  # typed on a phone: case, spaces and dashes do not matter
    assert room.is_presenting(token)
    assert not room.is_presenting(None) and not room.is_presenting("ABC234")  # the code is not the token


def test_the_admin_code_is_the_teacher_code_when_set(clock, monkeypatch):
    monkeypatch.setenv(room_module.ADMIN_CODE_ENV, "Owner99")
    room = Classroom(teacher_code="ABC234", clock=clock)
    assert room.teacher_code() == "OWNER99"
    with pytest.raises(LabError):
        room.start_presenting("ABC234")
    assert room.is_presenting(room.start_presenting("owner99"))


def test_without_admin_code_one_code_is_generated_and_printed_once(monkeypatch, capsys):
    monkeypatch.delenv(room_module.ADMIN_CODE_ENV, raising=False)
    room = Classroom()
    code = room.teacher_code()
    assert len(code) == 6 and code == room.teacher_code()
    printed = capsys.readouterr().err
    assert printed.count(code) == 1 and room_module.ADMIN_CODE_ENV in printed
    assert room.is_presenting(room.start_presenting(code.lower()))


def test_only_the_presenter_publishes(room):
    assert not room.publish(None, "output_size", {"os_i": 5})
    token = room.start_presenting("ABC234")
    assert not room.publish("someone-else", "output_size", {"os_i": 5})
    assert room.presentation().page == ""
    assert room.publish(token, "output_size", {"os_i": 5})
    assert room.presentation().settings == {"os_i": 5}


def test_what_is_published(room):
    token = room.start_presenting("ABC234")
    settings = {"os_i": 7, "os_mode": "transposed", "cm_integers": True}
    room.publish(token, "output_size", settings, question_id="q1")
    settings["os_i"] = 99  # the teacher's session goes on changing its own dict
    shown = room.presentation()
    assert (shown.page, shown.settings, shown.question_id, shown.revealed) == (
        "output_size",
        {"os_i": 7, "os_mode": "transposed", "cm_integers": True},
        "q1",
        False,
    )
    assert {f.name for f in dataclasses.fields(Presentation)} == {
        "version",
        "page",
        "settings",
        "question_id",
        "revealed",
        "figures",
        "lang",
    }  # no code, no token


def test_the_version_moves_exactly_when_followers_must_catch_up(room):
    token = room.start_presenting("ABC234")
    started = room.version()
    room.publish(token, "output_size", {"os_i": 5})
    first = room.version()
    assert first > started
    room.publish(token, "output_size", {"os_i": 5})  # the same page and settings: nothing new
    assert room.version() == first == room.presentation().version
    room.publish(token, "output_size", {"os_i": 6})
    assert room.version() > first
    second = room.version()
    room.publish(token, "checkerboard", {"os_i": 6})
    assert room.version() > second


def test_a_second_teacher_browser_takes_over(room):
    first = room.start_presenting("ABC234")
    second = room.start_presenting("ABC234")
    assert not room.is_presenting(first) and room.is_presenting(second)
    assert not room.publish(first, "home", {}) and not room.heartbeat(first)


def test_presenting_expires_when_the_teacher_leaves(room, clock):
    token = room.start_presenting("ABC234")
    room.publish(token, "output_size", {"os_i": 5})
    for _ in range(5):  # a heartbeat every 2 s keeps it alive well past the timeout
        clock.now += 2
        assert room.heartbeat(token)
    assert room.presentation() is not None
    before = room.version()
    clock.now += PRESENTER_TIMEOUT_S + 0.1
    assert room.presentation() is None
    assert room.version() > before  # followers notice the end
    assert not room.heartbeat(token) and not room.publish(token, "output_size", {"os_i": 6})


def test_stop_presenting(room):
    token = room.start_presenting("ABC234")
    room.stop_presenting("not-the-token")
    assert room.presentation() is not None
    room.stop_presenting(token)
    assert room.presentation() is None and not room.is_presenting(token)


def test_follower_counts(room, clock):
    room.follower_seen("a")
    room.follower_seen("b")
    room.follower_seen("c", stepped_away=True)
    assert room.follower_counts() == (2, 1)
    room.follower_left("b")
    assert room.follower_counts() == (1, 1)
    clock.now += FOLLOWER_TIMEOUT_S / 2
    room.follower_seen("a")
    clock.now += FOLLOWER_TIMEOUT_S / 2 + 0.1  # "c" has gone quiet (closed the tab)
    assert room.follower_counts() == (1, 0)


def test_answers_are_pooled_for_the_current_question_only(room):
    assert not room.submit_answer("q1", "s1", "3")  # nobody presents
    token = room.start_presenting("ABC234")
    room.publish(token, "output_size", {}, question_id="q1")
    assert room.submit_answer("q1", "s1", "3")
    assert room.submit_answer("q1", "s2", "4")
    assert room.submit_answer("q1", "s3", "3")
    assert room.submit_answer("q1", "s2", "3")  # a student changes their mind: still one answer each
    assert not room.submit_answer("q0", "s4", "3")  # an old question
    assert room.answer_counts("q1") == {"3": 3}
    assert room.answer_counts("q0") == {}
    room.publish(token, "output_size", {"os_i": 6}, question_id="q1")  # same question, other settings
    assert room.answer_counts("q1") == {"3": 3}
    room.publish(token, "output_size", {"os_i": 6}, question_id="q2")
    assert room.answer_counts("q1") == {} and room.answer_counts("q2") == {}


def test_only_the_presenter_reveals_and_then_answers_close(room):
    token = room.start_presenting("ABC234")
    room.publish(token, "output_size", {}, question_id="q1")
    room.submit_answer("q1", "s1", "3")
    assert not room.reveal("student", "q1") and not room.presentation().revealed
    assert not room.reveal(token, "q0")
    before = room.version()
    assert room.reveal(token, "q1")
    assert room.presentation().revealed and room.version() > before
    assert not room.submit_answer("q1", "s2", "4")
    assert room.answer_counts("q1") == {"3": 1}
    room.publish(token, "output_size", {}, question_id="q2")  # the next question starts hidden
    assert not room.presentation().revealed


def test_following_shares_no_control_settings():
    import classroom_ui

    for keys in classroom_ui.SHARED_SETTINGS.values():
        for key in keys:
            assert not any(word in key for word in ("code", "token", "control", "train")), key


def beacon_version(beacon) -> int | None:
    path = beacon.folder / "version.json"
    return json.loads(path.read_text())["version"] if path.exists() else None


def test_the_beacon_file_moves_with_every_change_followers_must_see(clock, tmp_path, monkeypatch):
    monkeypatch.delenv(room_module.ADMIN_CODE_ENV, raising=False)
    beacon = room_module.VersionBeacon(tmp_path / "classroom")
    room = Classroom(teacher_code="ABC234", clock=clock, beacon=beacon)
    assert beacon_version(beacon) is None  # nothing written before anything happens
    token = room.start_presenting("abc234")
    assert beacon_version(beacon) == room.version()
    room.publish(token, "output_size", {"os_i": 5})
    changed = beacon_version(beacon)
    assert changed == room.version()
    room.publish(token, "output_size", {"os_i": 5})  # the same settings again: no news
    room.heartbeat(token)
    assert beacon_version(beacon) == changed
    room.publish(token, "output_size", {"os_i": 6})
    assert beacon_version(beacon) == room.version() > changed
    clock.now += PRESENTER_TIMEOUT_S + 1  # the teacher's tab closed: followers must learn it too
    assert room.presentation() is None
    assert beacon_version(beacon) == room.version()
    assert beacon.relative_path == f"classroom/{beacon.folder.name}/version.json"


def test_a_beacon_removes_folders_of_servers_that_are_gone(tmp_path):
    root = tmp_path / "classroom"
    gone = root / "999999999-deadbeef"  # no such process
    gone.mkdir(parents=True)
    (gone / "version.json").write_text('{"version": 3}')
    beacon = room_module.VersionBeacon(root)
    beacon.write({"version": 1})
    assert not gone.exists() and beacon_version(beacon) == 1


def beacon_state(beacon) -> dict:
    return json.loads((beacon.folder / "version.json").read_text())


def test_the_state_file_tells_followers_the_lesson_question_settings_and_charts(clock, tmp_path, monkeypatch):
    monkeypatch.delenv(room_module.ADMIN_CODE_ENV, raising=False)
    beacon = room_module.VersionBeacon(tmp_path / "classroom")
    room = Classroom(teacher_code="ABC234", clock=clock, beacon=beacon)
    token = room.start_presenting("ABC234")
    chart = room.share_figure(token, '{"data": [], "layout": {"height": 300}}')
    assert chart is not None and chart.endswith(".json.gz")
    assert gzip.decompress((beacon.folder / chart).read_bytes()) == b'{"data": [], "layout": {"height": 300}}'
    room.publish(token, "output_size", {"os_i": 5}, "q1", {"os_animation": chart}, "zh")
    state = beacon_state(beacon)
    assert state == {
        "version": room.version(),
        "page": "output_size",
        "question": "q1",
        "revealed": False,
        "settings": {"os_i": 5},
        "figures": {"os_animation": chart},
        "figures_settings": {"os_i": 5},
        "lang": "zh",
        "settle_ms": 0,  # nobody follows yet: pages may catch up at every change
    }
    assert token not in (beacon.folder / "version.json").read_text()  # nothing that grants anything
    before = room.version()
    room.publish(token, "output_size", {"os_i": 6}, "q1")  # before the lesson ran: its charts are kept
    assert beacon_state(beacon)["figures"] == {"os_animation": chart} and room.version() > before
    assert beacon_state(beacon)["figures_settings"] == {"os_i": 5}  # and they still show i = 5
    room.publish(token, "checkerboard", {"cb_k": 3}, None)  # another lesson: the old charts are not its own
    assert beacon_state(beacon)["figures"] == {}
    room.stop_presenting(token)
    assert beacon_state(beacon) == {"version": room.version(), "page": None}


def test_a_big_class_waits_for_the_teacher_to_pause_a_small_one_does_not(clock, tmp_path, monkeypatch):
    monkeypatch.delenv(room_module.ADMIN_CODE_ENV, raising=False)
    beacon = room_module.VersionBeacon(tmp_path / "classroom")
    room = Classroom(teacher_code="ABC234", clock=clock, beacon=beacon)
    token = room.start_presenting("ABC234")
    for n in range(room_module.EAGER_FOLLOWERS):
        room.follower_seen(f"student-{n}")
    room.follower_seen("away", stepped_away=True)  # a student exploring alone costs nothing
    room.publish(token, "output_size", {"os_i": 5})
    assert beacon_state(beacon)["settle_ms"] == 0
    room.follower_seen("one-more")
    room.publish(token, "output_size", {"os_i": 6})
    assert beacon_state(beacon)["settle_ms"] == room_module.FOLLOW_SETTLE_S * 1000
    clock.now += FOLLOWER_TIMEOUT_S + 1  # they closed their tabs
    room.heartbeat(token)
    room.publish(token, "output_size", {"os_i": 7})
    assert beacon_state(beacon)["settle_ms"] == 0


def test_only_the_presenter_makes_the_server_write_a_chart(clock, tmp_path, monkeypatch):
    monkeypatch.delenv(room_module.ADMIN_CODE_ENV, raising=False)
    beacon = room_module.VersionBeacon(tmp_path / "classroom")
    room = Classroom(teacher_code="ABC234", clock=clock, beacon=beacon)
    assert room.share_figure(None, "{}") is None
    token = room.start_presenting("ABC234")
    assert room.share_figure("someone-else", "{}") is None
    assert list((beacon.folder / room_module.FIGURE_FOLDER).iterdir()) == []
    same = room.share_figure(token, '{"a": 1}')
    assert room.share_figure(token, '{"a": 1}') == same  # named by content: written once
    assert room.share_figure(token, '{"a": 2}') != same


def test_shared_charts_are_bounded_oldest_first(tmp_path, monkeypatch):
    monkeypatch.setattr(room_module, "FIGURES_KEPT", 3)
    beacon = room_module.VersionBeacon(tmp_path / "classroom")
    names = [beacon.share_figure(f'{{"n": {n}}}') for n in range(4)]
    beacon.share_figure('{"n": 1}')  # used again: now the newest
    beacon.share_figure('{"n": 4}')
    shared = beacon.folder / room_module.FIGURE_FOLDER
    left = {f"{room_module.FIGURE_FOLDER}/{path.name}" for path in shared.iterdir()}
    assert left == {names[1], names[3], beacon.share_figure('{"n": 4}')}
    assert (tmp_path / "plotly.min.js").stat().st_size > 1_000_000  # followers' charts load it, beside the folder


def test_the_server_owner_sets_how_many_followers_catch_up_at_once(monkeypatch):
    monkeypatch.delenv(room_module.EAGER_FOLLOWERS_ENV, raising=False)
    assert room_module.eager_followers() == room_module.EAGER_FOLLOWERS
    monkeypatch.setenv(room_module.EAGER_FOLLOWERS_ENV, "25")
    assert room_module.eager_followers() == 25
    monkeypatch.setenv(room_module.EAGER_FOLLOWERS_ENV, "many")  # not a number: the default, not a crash
    assert room_module.eager_followers() == room_module.EAGER_FOLLOWERS
