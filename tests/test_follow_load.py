"""How benchmarks/follow_load.py counts a follower as caught up with the teacher, and when its
emulated browser asks for a page run (as classroom_ui's watch does)."""

from benchmarks.follow_load import Follower, catch_up_delays, pooled_catch_up
from dcgan_core.classroom import FOLLOW_MAX_STALE_S, FOLLOW_SETTLE_S

CHANGES = [(0.0, 5), (2.0, 6), (4.0, 7), (6.0, 6)]  # (teacher's key press, slider value)


def test_each_change_is_reached_by_showing_it_or_a_newer_one():
    shown = [(1.0, 5), (5.0, 7), (6.5, 6)]  # value 6 at 2 s was skipped for 7
    assert catch_up_delays(CHANGES, shown) == [1.0, 3.0, 1.0, 0.5]


def test_an_old_value_shown_late_stands_for_the_old_change_only():
    assert catch_up_delays(CHANGES, [(3.0, 5)]) == [3.0, None, None, None]


def test_a_value_shown_again_after_the_teacher_came_back_to_it_counts_for_the_newer_change():
    shown = [(2.5, 6), (7.0, 6)]  # 6 at 2.5 s is the second change; 6 at 7 s is the fourth
    assert catch_up_delays(CHANGES, shown) == [2.5, 0.5, 3.0, 1.0]


def test_nothing_shown_leaves_every_change_behind():
    assert catch_up_delays(CHANGES, []) == [None] * 4


def follower_showing(page="output_size", lang="en", charts=True) -> Follower:
    """A follower whose last page run showed version 10 of the teacher's ``page``."""
    follower = Follower("http://127.0.0.1:1", seed=0, slider_key="os_i")
    follower._watch.update(
        seen=10,
        shown={"page": page, "question": None, "revealed": False},
        charts=charts,
        lang=lang,
        settle_ms=FOLLOW_SETTLE_S * 1000,
        stale_ms=FOLLOW_MAX_STALE_S * 1000,
        changed=0.0,
    )
    return follower


def state(version, page="output_size", lang="en", question=None):
    return {"version": version, "page": page, "lang": lang, "question": question, "revealed": False}


def test_a_new_setting_waits_for_the_teacher_to_pause_then_the_page_catches_up():
    follower = follower_showing()
    assert not follower._full_run_due(state(10), 0.5)  # nothing new
    assert follower._draws_charts(state(11))  # the charts take the teacher's at once...
    assert not follower._full_run_due(state(11), 1.0)
    assert follower._full_run_due(state(11), FOLLOW_SETTLE_S + 0.1)  # ...the page once the teacher paused


def test_a_teacher_who_never_pauses_is_caught_up_with_at_the_latest_after_the_stale_bound():
    follower = follower_showing()
    now = 1.0
    assert not follower._full_run_due(state(11), now)
    while now < FOLLOW_MAX_STALE_S:
        follower._watch["changed"] = now  # a change every second
        assert not follower._full_run_due(state(11 + int(now)), now)
        now += 1.0
    assert follower._full_run_due(state(99), 1.0 + FOLLOW_MAX_STALE_S)


def test_a_small_class_is_told_not_to_wait_for_a_pause():
    follower = follower_showing()
    assert follower._full_run_due(dict(state(11), settle_ms=0), 0.1)
    assert not follower_showing()._full_run_due(dict(state(11), settle_ms=3000), 0.1)


def test_another_lesson_question_or_language_asks_for_a_page_run_at_once():
    assert follower_showing()._full_run_due(state(11, page="checkerboard"), 0.1)
    assert follower_showing()._full_run_due(state(11, question="q7"), 0.1)
    other = follower_showing(lang="zh")
    assert not other._draws_charts(state(11)) and other._full_run_due(state(11), 0.1)
    assert follower_showing(charts=False)._full_run_due(state(11), 0.1)  # a lesson without such charts


def test_pooled_catch_up_gathers_every_followers_delays_and_counts_the_never():
    delays, behind = pooled_catch_up(CHANGES, [[(1.0, 5), (5.0, 7), (6.5, 6)], [(3.0, 5)]])
    assert delays == [1.0, 3.0, 1.0, 0.5, 3.0] and behind == 3
