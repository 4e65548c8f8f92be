"""The load benchmark's stand-in browser matches each live update to the request that asked for it."""

from benchmarks.protocol_viewer import FINISHED, FRAGMENT_DONE, ProtocolViewer


def viewer_with_requests(*sent_at):
    viewer = ProtocolViewer("http://127.0.0.1:1", page="train")
    viewer._pending.extend(sent_at)
    viewer.sent.extend(sent_at)
    return viewer


def test_answers_match_requests_oldest_first():
    viewer = viewer_with_requests(10.0, 11.0)
    viewer._finished(FRAGMENT_DONE, 10.2)
    viewer._finished(FRAGMENT_DONE, 11.5)
    assert viewer.latencies == [(10.0, 0.1999999999999993), (11.0, 0.5)]
    assert not viewer._pending


def test_the_first_full_run_is_an_arrival_not_a_live_update():
    viewer = viewer_with_requests()
    viewer._finished(FINISHED.FINISHED_SUCCESSFULLY, 3.0)
    assert viewer.latencies == [] and viewer.full_runs == 1


def test_a_fragment_run_that_turns_into_a_full_run_is_answered_by_it():
    viewer = viewer_with_requests(5.0, 6.0)
    viewer._finished(FINISHED.FINISHED_EARLY_FOR_RERUN, 5.1)  # the page called st.rerun()
    viewer._finished(FINISHED.FINISHED_SUCCESSFULLY, 5.4)
    assert [round(lat, 3) for _, lat in viewer.latencies] == [0.4] and list(viewer._pending) == [6.0]


def test_a_fragment_run_cut_short_is_timed_until_the_answer_that_replaced_it():
    viewer = viewer_with_requests(5.0, 6.0)
    viewer._finished(FINISHED.FINISHED_EARLY_FOR_RERUN, 6.05)
    viewer._finished(FRAGMENT_DONE, 6.3)
    assert [(sent, round(lat, 3)) for sent, lat in viewer.latencies] == [(5.0, 1.3), (6.0, 0.3)]
    assert viewer.replaced == [5.0] and viewer.early_ends == 1 and not viewer._pending
    assert viewer.counts() == {"sent": 2, "answered": 1, "replaced": 1, "unanswered": 0}


def test_two_runs_cut_short_in_a_row_are_both_replaced_by_the_next_answer():
    viewer = viewer_with_requests(1.0, 2.0, 3.0)
    viewer._finished(FINISHED.FINISHED_EARLY_FOR_RERUN, 2.1)
    viewer._finished(FINISHED.FINISHED_EARLY_FOR_RERUN, 3.1)
    viewer._finished(FRAGMENT_DONE, 3.5)
    assert [round(lat, 3) for _, lat in viewer.latencies] == [2.5, 1.5, 0.5]
    assert viewer.counts() == {"sent": 3, "answered": 1, "replaced": 2, "unanswered": 0}


def test_requests_still_waiting_at_the_end_are_counted_unanswered():
    viewer = viewer_with_requests(1.0, 2.0, 3.0, 4.0)
    viewer._finished(FRAGMENT_DONE, 1.4)
    assert viewer.counts() == {"sent": 4, "answered": 1, "replaced": 0, "unanswered": 3}
    assert viewer.counts(since=2.5) == {"sent": 2, "answered": 0, "replaced": 0, "unanswered": 2}
