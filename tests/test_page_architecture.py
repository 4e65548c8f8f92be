"""The architecture lesson: parameter counts, tables and checks follow the controls, in both languages."""

import re

import pytest
from page_helpers import open_app_page

from dcgan_core.layers import layer_table
from dcgan_core.models import DCGANConfig, Discriminator, Generator, count_parameters


def counts(**settings):
    cfg = DCGANConfig(**settings)
    return f"{count_parameters(Generator(cfg)):,}", f"{count_parameters(Discriminator(cfg)):,}"


def open_page(lang):
    return open_app_page("pages/architecture.py", lang)


def metric_values(at):
    return [m.value for m in at.metric]


@pytest.mark.slow
def test_defaults_then_change_size_channels_and_widths():
    at = open_page("en")
    g, d = counts()
    assert metric_values(at)[:2] == [g, d]
    assert [g, d] == ["3,576,704", "2,765,568"]  # pytorch/examples' DCGAN, as published
    assert len(at.success) == 2 and all("equal the table" in s.value for s in at.success)
    assert "[2, 3, 64, 64]" in at.success[0].value
    cfg = DCGANConfig()
    tables = at.dataframe
    assert len(tables) == 2
    assert len(tables[0].value) == len(layer_table(Generator(cfg), cfg))
    assert tables[0].value["match"].all() and tables[1].value["match"].all()
    # the first stride-2 layer's arithmetic is open, with the substituted formula
    assert any("= 8" in latex.value for latex in at.latex)

    at.radio(key="arch_size").set_value(32).run()
    at.radio(key="arch_channels").set_value(1).run()
    assert not at.exception
    assert metric_values(at)[:2] == list(counts(image_size=32, channels=1))
    assert "[2, 1, 32, 32]" in at.success[0].value

    at.select_slider(key="arch_ngf").set_value(16).run()
    at.select_slider(key="arch_nz").set_value(50).run()
    assert metric_values(at)[:2] == list(counts(image_size=32, channels=1, ngf=16, nz=50))
    g_total, d_total = (int(v.replace(",", "")) for v in metric_values(at)[:2])
    assert metric_values(at)[2] == f"{g_total + d_total:,}"

    at.button[0].click().run()  # paper settings
    assert metric_values(at)[:2] == [g, d]


def test_chinese_page_and_128px():
    at = open_page("zh")
    assert at.title[0].value == "DCGAN 的网络结构"
    assert all(re.search(r"[\u4e00-\u9fff]", m.label) for m in at.metric)
    at.radio(key="arch_size").set_value(128).run()
    assert not at.exception
    assert metric_values(at)[:2] == list(counts(image_size=128))
    assert "[2, 3, 128, 128]" in at.success[0].value and "一致" in at.success[0].value
    expanders = [e.label for e in at.expander]
    assert any("64×64 → 128×128" in label for label in expanders)
