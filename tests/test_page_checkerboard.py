"""The checkerboard lesson under AppTest: the counts it reports are PyTorch's,
for defaults, slider changes, 1-D and stacked layers, in both languages."""

import pytest
import torch
import torch.nn.functional as F
from page_helpers import open_app_page

PAGE = "pages/checkerboard.py"


def open_page(lang="en"):
    return open_app_page(PAGE, lang)


def interior_counts(k, s, layers, dims, n=10):
    """PyTorch's counts for a big all-ones input, border units excluded (the pattern an endless input gives)."""
    transpose = F.conv_transpose1d if dims == 1 else F.conv_transpose2d
    x = torch.ones((1, 1) + (n,) * dims, dtype=torch.float64)
    for _ in range(layers):
        x = transpose(x, torch.ones((1, 1) + (k,) * dims, dtype=torch.float64), stride=s)
    margin = x.shape[-1] // 3
    middle = x[0, 0][(slice(margin, -margin),) * dims]
    return int(middle.min()), int(middle.max())


def shown_min_max(at):
    return int(at.metric[0].value), int(at.metric[1].value)


def assert_verified(at, expected=2):
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.success) >= expected and all("0.00e+00" in s.value for s in at.success[-expected:])


def test_defaults_report_pytorchs_uneven_counts():
    at = open_page()
    k, s = at.session_state["cb_k"], at.session_state["cb_s"]
    assert shown_min_max(at) == interior_counts(k, s, 1, 2)
    assert at.warning and "not" in at.warning[0].value  # 3 is not a multiple of 2
    assert_verified(at)
    assert any("nn.ConvTranspose2d" in c.value and "nn.Upsample" in c.value for c in at.code)


def test_even_overlap_after_slider_change():
    at = open_page()
    at.slider(key="cb_k").set_value(4).run()
    low, high = shown_min_max(at)
    assert (low, high) == interior_counts(4, 2, 1, 2) and low == high
    assert any("evenly" in s.value for s in at.success)
    assert_verified(at)


@pytest.mark.slow
@pytest.mark.parametrize("k,s,layers", [(3, 2, 2), (5, 3, 1), (1, 2, 1), (4, 3, 3)])
def test_other_settings_match_pytorch(k, s, layers):
    at = open_page()
    at.slider(key="cb_k").set_value(k).run()
    at.slider(key="cb_s").set_value(s).run()
    at.slider(key="cb_layers").set_value(layers).run()
    assert shown_min_max(at) == interior_counts(k, s, layers, 2, n=12)
    assert_verified(at)


def test_one_dimension_and_edges():
    at = open_page()
    at.slider(key="cb_k").set_value(5).run()
    at.radio(key="cb_dims__en").set_value(1).run()
    assert at.session_state["cb_dims"] == 1
    assert shown_min_max(at) == interior_counts(5, 2, 1, 1)
    at.toggle(key="cb_edges").set_value(True).run()  # now the whole output, border units included
    n = at.session_state["cb_n"]
    full = F.conv_transpose1d(torch.ones(1, 1, n), torch.ones(1, 1, 5), stride=2)[0, 0]
    assert shown_min_max(at) == (int(full.min()), int(full.max()))
    assert_verified(at)


def test_random_kernel_shows_artifacts_even_for_even_overlap():
    at = open_page()
    at.slider(key="cb_k").set_value(4).run()
    at.radio(key="cb_kernel__en").set_value("random").run()
    at.number_input(key="cb_seed").set_value(3).run()
    assert not at.exception and at.session_state["cb_kernel"] == "random"
    assert_verified(at)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_too_small_input_for_cropping_shows_a_sentence(lang):
    at = open_page(lang)
    at.slider(key="cb_k").set_value(8).run()
    at.slider(key="cb_s").set_value(1).run()
    at.slider(key="cb_layers").set_value(3).run()
    at.slider(key="cb_n").set_value(2).run()
    assert not at.exception
    assert len(at.error) == 1 and not at.metric
    assert ("输入" in at.error[0].value) if lang == "zh" else ("cropping" in at.error[0].value)
    at.slider(key="cb_layers").set_value(1).run()  # the page recovers
    at.slider(key="cb_n").set_value(12).run()
    assert not at.error and shown_min_max(at) == interior_counts(8, 1, 1, 2, n=30)


def test_chinese_page():
    at = open_page("zh")
    assert at.metric[0].label == "最少印章数"
    assert any("不是" in w.value for w in at.warning)
    at.radio(key="cb_dims__zh").set_value(1).run()
    assert shown_min_max(at) == interior_counts(3, 2, 1, 1)
    assert_verified(at)
