"""One run per server: a second start is refused; only the token holder controls the run."""

import pytest
from tiny_runs import tiny_config, tiny_images, wait_until

from dcgan_core.i18n import LabError
from dcgan_core.registry import TOKEN_LENGTH, TrainingRegistry, get_registry, normalise_token

IMAGES = tiny_images(32)


def config(**overrides):
    return tiny_config(**{"checkpoint_every": 1000, **overrides})


@pytest.fixture
def registry(tmp_path):
    reg = TrainingRegistry(runs_folder=tmp_path)
    yield reg
    reg.stop_all()
    for record in reg.history():
        record.job.stop()
        assert record.job.wait(30)


def start(reg, **overrides):
    return reg.start(config(**overrides), images=IMAGES, cpu_threads=1)


def test_second_job_is_refused_while_one_runs(registry):
    first, token = start(registry)
    with pytest.raises(LabError) as err:
        start(registry)
    assert err.value.key == "train.busy"
    assert registry.current() is first  # the running one is untouched
    registry.control(token, "pause")
    wait_until(lambda: first.job.snapshot().status == "paused")
    with pytest.raises(LabError):  # paused still holds the machine
        start(registry)
    registry.control(token, "stop")
    assert first.job.wait(30)
    second, token2 = start(registry)  # now allowed, with a new token
    assert second is not first and second.run_id != first.run_id
    assert [r.run_id for r in registry.history()] == [first.run_id]
    assert registry.is_controller(token2)
    assert token == token2 or not registry.is_controller(token)  # the old code controls nothing now


def test_only_the_token_holder_controls(registry):
    record, token = start(registry)
    assert len(token) == TOKEN_LENGTH
    assert registry.is_controller(token)
    assert registry.is_controller(f" {token.lower()[:3]}-{token.lower()[3:]} ")  # typed by hand
    for stranger in (None, "", "WRONG1", token[:-1]):
        assert not registry.is_controller(stranger)
        for action in ("pause", "stop", "step", "save"):
            with pytest.raises(LabError) as err:
                registry.control(stranger, action)
            assert err.value.key == "train.not_controller"
        with pytest.raises(LabError):
            registry.control(stranger, "set_hyperparameters", lr=1e-3)
    wait_until(lambda: record.job.snapshot().step >= 2)
    assert record.job.snapshot().status == "running"  # viewers changed nothing

    registry.control(token, "pause")
    wait_until(lambda: record.job.snapshot().status == "paused")
    before = record.job.snapshot().step
    assert registry.control(token, "step")
    wait_until(lambda: record.job.snapshot().step == before + 1)
    registry.control(token, "set_hyperparameters", lr=5e-4)
    wait_until(lambda: record.job.snapshot().lr == 5e-4)
    registry.control(token, "stop")
    assert record.job.wait(30)
    assert record.job.snapshot().status == "stopped"


def test_token_alphabet_and_normalising():
    assert normalise_token(" ab-c d ") == "ABCD"
    assert normalise_token(None) == ""


def test_the_process_has_one_registry():
    assert get_registry() is get_registry()


def test_image_folders_only_under_allowed_roots(tmp_path, monkeypatch):
    from dcgan_core import paths
    from dcgan_core.registry import IMAGE_FOLDERS_ENV, check_image_folder

    monkeypatch.setattr(paths, "DATA_DIR", tmp_path / "data")
    inside = tmp_path / "data" / "datasets" / "faces"
    assert check_image_folder(str(inside)) == inside.resolve()
    for outside in ("/etc", str(tmp_path / "photos"), str(inside / ".." / ".." / "..")):
        with pytest.raises(LabError) as err:
            check_image_folder(outside)
        assert err.value.key == "train.folder_not_allowed"
    monkeypatch.setenv(IMAGE_FOLDERS_ENV, str(tmp_path / "photos"))
    assert check_image_folder(str(tmp_path / "photos" / "cats")) == (tmp_path / "photos" / "cats").resolve()


def test_the_code_is_in_the_server_log_and_the_admin_code_controls_any_run(registry, monkeypatch, capsys):
    monkeypatch.delenv("DCGAN_LAB_ADMIN_CODE", raising=False)
    record, token = start(registry)
    assert f"control code is {token}" in capsys.readouterr().err  # the teacher's terminal has it
    assert not registry.is_controller("")
    with pytest.raises(LabError):
        registry.control("TEACH3R", "pause")  # no admin code set: nothing but the run's own
    monkeypatch.setenv("DCGAN_LAB_ADMIN_CODE", "teach3r")
    assert not registry.is_controller("") and not registry.is_controller("TEACH3")
    assert registry.is_controller(" teach-3r ")  # typed by hand, like a run's code
    registry.control("TEACH3R", "stop")
    assert record.job.wait(30) and record.job.snapshot().status == "stopped"


def test_a_start_that_fails_before_training_leaves_the_last_good_run_shown(registry):
    good, token = start(registry, max_steps=6)
    assert good.job.wait(60) and good.job.snapshot().status == "finished"
    assert registry.shown() is good
    failed, _ = registry.start(config(), images=tiny_images(3), cpu_threads=1)  # 3 images, batch of 8: refused
    assert failed.job.wait(60)
    snap = failed.job.snapshot()
    assert snap.failed_to_start and snap.message_key == "data.too_few_for_batch"
    assert snap.message_params == {"count": 3, "batch": 8}
    assert registry.current() is failed and registry.shown() is good
    third, _ = start(registry, max_steps=4)  # a good start is shown again
    assert registry.shown() is third


def test_only_the_newest_earlier_run_that_trained_is_kept(registry):
    """Each record holds its run's curves: earlier runs are kept only as far as shown() needs them."""
    records = []
    for _ in range(3):
        record, token = start(registry)
        registry.control(token, "stop")
        assert record.job.wait(30)
        records.append(record)
    assert [r.run_id for r in registry.history()] == [records[1].run_id]
    assert registry.shown() is records[2]
