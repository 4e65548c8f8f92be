"""The output-size lesson under AppTest: the number it shows is PyTorch's, for
defaults, slider changes, every preset and every mode, in both languages."""

import pytest
import torch
import torch.nn.functional as F
from page_helpers import open_app_page

from dcgan_core.presets import PRESETS

PAGE = "pages/output_size.py"


def open_page(lang="en", query=None):
    return open_app_page(PAGE, lang, query=query)


def torch_size(mode, i, k, s, p, d=1, a=0):
    x = torch.zeros(1, 1, i, i)
    w = torch.zeros(1, 1, k, k)
    if mode == "conv":
        return F.conv2d(x, w, stride=s, padding=p, dilation=d).shape[-1]
    if mode == "transposed":
        return F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=a, dilation=d).shape[-1]
    return F.max_pool2d(x, k, stride=s, padding=p).shape[-1]


def shown(at):
    """(mode, i, k, s, p, d, a) as the page holds them, and the displayed output size."""
    state = at.session_state
    mode = state["os_mode"]
    d = 1 if mode == "pool" else state["os_d"]
    a = state["os_a"] if mode == "transposed" else 0
    value = at.metric[0].value
    side = int(value.split("×")[0])
    assert value == f"{side} × {side}"
    return (mode, state["os_i"], state["os_k"], state["os_s"], state["os_p"], d, a), side


def assert_matches_pytorch(at):
    config, side = shown(at)
    assert side == torch_size(*config), config
    assert not at.error, [e.value for e in at.error]
    assert len(at.success) == 2  # output size and receptive field both verified


def test_defaults_show_pytorchs_size_and_the_code():
    at = open_page()
    assert_matches_pytorch(at)
    assert any("nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1, dilation=1)" in c.value for c in at.code)
    assert len(at.latex) == 2


@pytest.mark.slow
def test_slider_changes_update_the_size():
    at = open_page()
    _, before = shown(at)
    at.slider(key="os_i").set_value(13).run()
    at.slider(key="os_k").set_value(4).run()
    assert_matches_pytorch(at)
    _, after = shown(at)
    assert after != before
    at.slider(key="os_d").set_value(3).run()
    assert_matches_pytorch(at)
    assert at.session_state["os_preset"] == "custom"


@pytest.mark.parametrize("mode", ["transposed", "pool"])
def test_other_operations(mode):
    at = open_page()
    at.radio(key="os_mode__en").set_value(mode).run()
    assert at.session_state["os_mode"] == mode
    assert_matches_pytorch(at)
    if mode == "transposed":
        at.slider(key="os_a").set_value(1).run()
        assert_matches_pytorch(at)
        assert any("output_padding=1" in c.value for c in at.code)
    else:
        assert not [s for s in at.slider if s.key == "os_d"]  # no dilation for pooling


@pytest.mark.slow
def test_every_preset_sets_the_sliders_and_matches_pytorch():
    at = open_page()
    for preset in PRESETS:
        at.selectbox(key="os_preset__en").set_value(preset.id).run()
        assert not at.exception, preset.id
        assert at.session_state["os_mode"] == preset.operation
        assert [at.session_state[k] for k in ("os_i", "os_k", "os_s", "os_p")] == [
            preset.i,
            preset.k,
            preset.s,
            preset.p,
        ]
        assert_matches_pytorch(at)
    at.slider(key="os_s").set_value(3).run()  # sliders stay editable after a preset
    assert at.session_state["os_s"] == 3 and at.session_state["os_preset"] == "custom"
    assert_matches_pytorch(at)


def test_a_link_with_a_preset_opens_it():
    at = open_page(query={"preset": "dcgan_g_upsample"})
    assert at.session_state["os_mode"] == "transposed"
    assert shown(at)[1] == 8
    assert_matches_pytorch(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_invalid_combination_shows_a_sentence_and_the_page_recovers(lang):
    at = open_page(lang)
    at.slider(key="os_i").set_value(2).run()
    at.slider(key="os_p").set_value(0).run()
    at.slider(key="os_k").set_value(7).run()
    assert not at.exception
    assert len(at.error) == 1 and not at.metric
    assert ("卷积核" in at.error[0].value) if lang == "zh" else ("kernel spans" in at.error[0].value)
    assert at.slider(key="os_k")  # controls still there
    at.slider(key="os_k").set_value(2).run()
    assert_matches_pytorch(at)


def test_pool_padding_beyond_half_the_window_is_refused_like_pytorch():
    at = open_page()
    at.radio(key="os_mode__en").set_value("pool").run()
    at.slider(key="os_k").set_value(2).run()
    at.slider(key="os_p").set_value(2).run()
    with pytest.raises(RuntimeError):
        torch_size("pool", at.session_state["os_i"], 2, at.session_state["os_s"], 2)
    assert len(at.error) == 1 and not at.exception


@pytest.mark.slow
def test_receptive_field_cell_choice():
    at = open_page()
    at.slider(key="os_i").set_value(9).run()
    at.number_input(key="os_rf_row").set_value(2).run()
    at.number_input(key="os_rf_col").set_value(3).run()
    assert not at.exception
    x = torch.rand(1, 1, 9, 9, requires_grad=True)  # PyTorch's answer: the non-zero gradient of y[2, 3]
    F.conv2d(x, torch.ones(1, 1, 3, 3), stride=2, padding=1)[0, 0, 2, 3].backward()
    rows, cols = (x.grad[0, 0] != 0).nonzero(as_tuple=True)
    summary = [m.value for m in at.markdown if m.value.startswith("Output cell")][0]
    assert f"**{len(rows)}**" in summary
    assert f"rows {rows.min()}–{rows.max()}" in summary and f"columns {cols.min()}–{cols.max()}" in summary
    assert len(at.success) == 2
    at.slider(key="os_i").set_value(3).run()  # the chosen cell is clamped into the smaller output
    assert at.session_state["os_rf_row"] <= 1 and not at.exception


def test_chinese_page():
    at = open_page("zh")
    assert at.metric[0].label == "输出尺寸"
    assert "与 PyTorch 一致" in at.success[0].value
    at.radio(key="os_mode__zh").set_value("transposed").run()
    assert_matches_pytorch(at)
