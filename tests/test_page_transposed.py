"""Lesson 3 page: DCGAN's 4→8 layer by default, three-way check, presets and ?preset= links, output_padding."""

import re

import pytest
import torch
import torch.nn.functional as F
from page_helpers import open_app_page

PAGE = "pages/transposed_conv.py"


def open_page(lang="en", preset=None):
    return open_app_page(PAGE, lang, query={"preset": preset} if preset else None)


def torch_size(i, k, s=1, p=0, d=1, a=0):
    return F.conv_transpose2d(
        torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p, output_padding=a, dilation=d
    ).shape[-1]


def shown_sizes(at):
    texts = " ".join(m.value for m in at.markdown)
    found = re.search(r"\*\*(\d+)×\d+\*\*[^*]*\*\*(\d+)×\d+\*\*", texts)
    return int(found.group(1)), int(found.group(2))


def test_defaults_are_the_dcgan_upsampling_layer_checked_three_ways():
    at = open_page()
    assert shown_sizes(at) == (4, torch_size(4, 4, 2, 1)) == (4, 8)
    assert len(at.success) == 3 and all("Matches PyTorch" in s.value for s in at.success)
    assert not at.error


@pytest.mark.slow
def test_sliders_change_the_output_size():
    at = open_page()
    at.slider(key="tc_s").set_value(1).run()
    assert shown_sizes(at) == (4, torch_size(4, 4, 1, 1))
    assert at.selectbox(key="tc_preset").value == "custom"
    at.slider(key="tc_d").set_value(2).run()
    at.slider(key="tc_i").set_value(3).run()
    assert shown_sizes(at) == (3, torch_size(3, 4, 1, 1, 2))
    assert len(at.success) == 3 and not at.exception


@pytest.mark.slow
def test_every_step_of_the_route_renders():
    at = open_page()
    for stage in ("input", "insert", "pad", "flip", "slide"):
        at.radio(key="tc_stage").set_value(stage).run()
        assert not at.exception
        assert len(at.success) == 3


@pytest.mark.slow
def test_output_padding_picks_between_sizes_that_give_the_same_output():
    at = open_page()
    at.selectbox(key="tc_preset").set_value("padding_strides_transposed").run()  # k3 s2 p1, 3 → 5
    assert shown_sizes(at) == (3, torch_size(3, 3, 2, 1))
    conv_inputs = [
        n
        for n in range(1, 12)
        if F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, 3, 3), stride=2, padding=1).shape[-1] == 3
    ]
    assert conv_inputs == [5, 6]
    table = next(m.value for m in at.markdown if m.value.startswith("|"))
    assert all(f"| {n} |" in table or f"| **{n}** |" in table for n in conv_inputs)
    at.radio(key="tc_a").set_value(1).run()
    assert shown_sizes(at) == (3, torch_size(3, 3, 2, 1, a=1)) == (3, 6)
    assert len(at.success) == 3


@pytest.mark.slow
def test_preset_link_from_the_architecture_page():
    at = open_page(preset="padding_strides_odd_transposed")  # k3 s2 p1 a1: 3 → 6
    assert (at.session_state["tc_i"], at.session_state["tc_a"]) == (3, 1)
    assert shown_sizes(at) == (3, torch_size(3, 3, 2, 1, a=1))
    at.slider(key="tc_i").set_value(2).run()
    at.query_params["preset"] = "dcgan_4_8"  # a new link: the DCGAN generator's 4 → 8 layer
    at.run()
    assert [at.session_state[k] for k in ("tc_i", "tc_k", "tc_s", "tc_p", "tc_a")] == [4, 4, 2, 1, 0]
    assert shown_sizes(at) == (4, 8)
    at.query_params["preset"] = "no_such_preset"
    at.run()
    assert not at.exception and shown_sizes(at) == (4, 8)


def test_invalid_settings_show_an_error():
    at = open_page()
    at.slider(key="tc_k").set_value(1).run()
    at.slider(key="tc_p").set_value(5).run()
    assert not at.exception
    assert at.error and not at.success


@pytest.mark.slow
def test_large_output_uses_the_sparsity_view_and_still_verifies():
    at = open_page()
    for key, value in (("tc_i", 8), ("tc_k", 6), ("tc_s", 4), ("tc_p", 0)):
        at.slider(key=key).set_value(value).run()
    o = torch_size(8, 6, 4, 0)
    assert shown_sizes(at) == (8, o)
    assert any(f"{o * o} × 64" in i.value for i in at.info)
    assert len(at.success) == 3


@pytest.mark.slow
def test_output_padding_above_the_stride_has_no_matrix_but_still_matches():
    at = open_page()
    at.slider(key="tc_s").set_value(1).run()
    at.slider(key="tc_d").set_value(2).run()
    at.radio(key="tc_a").set_value(1).run()
    assert shown_sizes(at) == (4, torch_size(4, 4, 1, 1, 2, 1))
    assert at.info and len(at.success) == 1 and not at.exception


def test_chinese_page():
    at = open_page("zh")
    assert at.title[0].value == "转置卷积"
    assert len(at.success) == 3 and all("与 PyTorch 一致" in s.value for s in at.success)
