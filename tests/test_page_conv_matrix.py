"""Lesson 2 page: the article's 4×16 example, shapes that follow the sliders, the sparsity view, errors, languages."""

import re

import pytest
import torch
import torch.nn.functional as F
from page_helpers import open_app_page

PAGE = "pages/conv_matrix.py"


def open_page(lang="en"):
    return open_app_page(PAGE, lang)


def c_shape(H, W, k, s=1, p=0, d=1):
    """Rows and columns of C from PyTorch's own shapes: output units × input units."""
    out = F.conv2d(torch.zeros(1, 1, H, W), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
    return out.shape[-2] * out.shape[-1], H * W


def shown_shape(at):
    texts = " ".join(m.value for m in at.markdown)
    found = re.search(r"\*\*C (?:is|是) (\d+) × (\d+)", texts)
    return (int(found.group(1)), int(found.group(2))) if found else None


def test_defaults_show_the_articles_4_by_16_example():
    at = open_page()
    assert shown_shape(at) == c_shape(4, 4, 3) == (4, 16)
    assert len(at.success) == 1 and "Matches PyTorch" in at.success[0].value
    assert not at.error


@pytest.mark.slow
def test_shape_of_c_follows_the_sliders():
    at = open_page()
    for key, value in (("cm_h", 6), ("cm_w", 5), ("cm_s", 2), ("cm_p", 1)):
        at.slider(key=key).set_value(value)
    at.run()
    assert not at.exception
    assert shown_shape(at) == c_shape(6, 5, 3, s=2, p=1)
    assert "Matches PyTorch" in at.success[0].value
    at.slider(key="cm_d").set_value(2).run()
    assert shown_shape(at) == c_shape(6, 5, 3, s=2, p=1, d=2)
    at.radio(key="cm_integers").set_value(False).run()
    assert not at.exception and "Matches PyTorch" in at.success[0].value


@pytest.mark.slow
def test_choosing_an_output_unit_explains_its_row():
    at = open_page()
    at.select_slider(key="cm_row").set_value(3).run()
    assert any("y(1, 1)" in m.value for m in at.markdown)
    at.slider(key="cm_h").set_value(3).run()  # 2 rows left: the selection is clamped, not an error
    assert not at.exception and at.session_state["cm_row"] < c_shape(3, 4, 3)[0]


@pytest.mark.slow
def test_large_input_uses_the_sparsity_view():
    at = open_page()
    at.slider(key="cm_h").set_value(32).run()
    at.slider(key="cm_w").set_value(32).run()
    rows, cols = c_shape(32, 32, 3)
    assert shown_shape(at) == (rows, cols)
    assert [m.value for m in at.metric][:1] == [f"{rows} × {cols}"]
    assert at.info and "Matches PyTorch" in at.success[0].value
    assert "cm_cell_text" not in [r.key for r in at.radio]  # no weight labels on a spy plot
    at.slider(key="cm_h").set_value(4).run()
    at.slider(key="cm_w").set_value(4).run()
    assert "cm_cell_text" in [r.key for r in at.radio] and not at.metric


def test_invalid_combination_shows_an_error_not_a_traceback():
    at = open_page()
    at.slider(key="cm_h").set_value(2).run()
    at.slider(key="cm_k").set_value(5).run()
    assert not at.exception
    assert at.error and "kernel" in at.error[0].value
    with pytest.raises(RuntimeError):
        F.conv2d(torch.zeros(1, 1, 2, 4), torch.zeros(1, 1, 5, 5))  # PyTorch refuses it too


def test_chinese_page():
    at = open_page("zh")
    assert shown_shape(at) == (4, 16)
    assert "与 PyTorch 一致" in at.success[0].value
    assert at.title[0].value == "卷积即矩阵乘法"
