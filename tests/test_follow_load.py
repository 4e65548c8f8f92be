"""How benchmarks/follow_load.py counts a follower as caught up with the teacher."""

from benchmarks.follow_load import catch_up_delays

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
