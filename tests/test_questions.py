""" "Predict first" questions (dcgan_core.questions): every answer checked against PyTorch,
never against a second copy of the formulas; the same inputs give the same question."""

import string

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dcgan_core import questions
from dcgan_core.i18n import LANGUAGES, LabError, translate

pytestmark = pytest.mark.usefixtures("one_thread")
SEEDS = range(40)


def all_questions():
    for lesson in questions.LESSONS:
        for seed in SEEDS:
            config = questions.random_config(lesson, seed)
            yield questions.make_question(lesson, questions.kind_for(lesson, seed), config, seed)


QUESTIONS = list(all_questions())


def torch_output_side(c: dict) -> int:
    x = torch.zeros(1, 1, c["i"], c["i"])
    if c["mode"] == "conv":
        y = F.conv2d(x, torch.zeros(1, 1, c["k"], c["k"]), stride=c["s"], padding=c["p"], dilation=c["d"])
    elif c["mode"] == "transposed":
        y = F.conv_transpose2d(
            x, torch.zeros(1, 1, c["k"], c["k"]), stride=c["s"], padding=c["p"], output_padding=c["a"], dilation=c["d"]
        )
    else:
        y = F.max_pool2d(x, c["k"], stride=c["s"], padding=c["p"])
    return y.shape[-1]


def torch_feeding_cells(c: dict, row: int) -> tuple[set, set]:
    """Input rows and columns whose value changes output `row`: the gradient of that output."""
    x = torch.zeros(1, 1, c["h"], c["w"], requires_grad=True)
    y = F.conv2d(x, torch.ones(1, 1, c["k"], c["k"]), stride=c["s"], padding=c["p"], dilation=c["d"])
    y.reshape(-1)[row].backward()
    rows, cols = np.nonzero(x.grad[0, 0].numpy())
    return set(rows.tolist()), set(cols.tolist())


def parse_units(text: str) -> set:
    units = set()
    for part in text.split(", "):
        low, _, high = part.partition("–")
        units |= set(range(int(low), int(high or low) + 1))
    return units


def torch_is_checkerboard(k: int, s: int) -> bool:
    """Stamp counts of a long 1-D transposed convolution of ones, away from the edges: uneven or not."""
    counts = F.conv_transpose1d(torch.ones(1, 1, 40), torch.ones(1, 1, k), stride=s)[0, 0]
    interior = counts[k + s : -(k + s)]
    return bool(interior.max() != interior.min())


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"{q.lesson}-{q.kind}-{q.id}")
def test_the_answer_is_pytorchs(question):
    c = question.config
    values = [choice.value for choice in question.choices]
    assert len(values) == questions.CHOICES == len(set(values))
    assert question.answer in values
    if question.kind == "output_size":
        assert question.answer == str(torch_output_side(c))
    elif question.kind == "matrix_shape":
        x = torch.randn(c["h"] * c["w"])

        def conv(v):
            return F.conv2d(
                v.reshape(1, 1, c["h"], c["w"]),
                torch.randn(1, 1, c["k"], c["k"]),
                stride=c["s"],
                padding=c["p"],
                dilation=c["d"],
            ).reshape(-1)

        C = torch.autograd.functional.jacobian(conv, x)
        assert question.answer == f"{C.shape[0]}x{C.shape[1]}"
    elif question.kind == "feeding_cells":
        rows, cols = torch_feeding_cells(c, question.prompt_params["row"])
        answer_rows, answer_cols = question.answer[1:].split("|c")
        assert (parse_units(answer_rows), parse_units(answer_cols)) == (rows, cols)
        for value in values:  # and no wrong choice happens to name the same cells
            if value != question.answer:
                r, q = value[1:].split("|c")
                assert (parse_units(r), parse_units(q)) != (rows, cols)
    elif question.kind == "inserted_zeros":
        # a 1×1 kernel of one: the transposed convolution is the zero-inserted input itself
        stretched = F.conv_transpose2d(torch.ones(1, 1, c["i"], c["i"]), torch.ones(1, 1, 1, 1), stride=c["s"])
        assert question.answer == str(int((stretched == 0).sum()))
    elif question.kind == "checkerboard_pair":
        uneven = [ch.value for ch in question.choices if torch_is_checkerboard(ch.params["k"], ch.params["s"])]
        assert uneven == [question.answer]
    else:
        pytest.fail(f"untested kind {question.kind}")


def test_every_lesson_and_kind_is_asked():
    asked = {(q.lesson, q.kind) for q in QUESTIONS}
    assert asked == {(lesson, kind) for lesson, kinds in questions.KINDS.items() for kind in kinds}


def test_same_inputs_same_question_other_seed_other_question():
    for lesson in questions.LESSONS:
        config = questions.random_config(lesson, 5)
        assert config == questions.random_config(lesson, 5)
        kind = questions.kind_for(lesson, 5)
        assert questions.make_question(lesson, kind, config, 5) == questions.make_question(lesson, kind, config, 5)
    ids = {q.id for q in QUESTIONS}
    assert len(ids) > 0.8 * len(QUESTIONS)


def test_a_question_from_the_lesson_settings():
    q = questions.make_question(
        "output_size", "output_size", {"mode": "conv", "i": 5, "k": 3, "s": 2, "p": 1, "d": 1, "a": 0}
    )
    assert q.answer == "3" and q.is_right("3") and not q.is_right("4") and not q.is_right(None)
    assert r"\frac{5 + 2\cdot1" in q.formula  # the core's own substituted formula
    # the lesson's current pair is always among the checkerboard choices, even an even one
    q = questions.make_question("checkerboard", "checkerboard_pair", {"k": 4, "s": 2})
    assert "k4s2" in [c.value for c in q.choices] and q.answer != "k4s2"


def test_invalid_settings_raise_the_cores_error():
    with pytest.raises(LabError) as caught:
        questions.make_question(
            "output_size", "output_size", {"mode": "conv", "i": 2, "k": 7, "s": 1, "p": 0, "d": 1, "a": 0}
        )
    assert caught.value.key == "errors.kernel_too_large"
    with pytest.raises(ValueError):
        questions.make_question("output_size", "matrix_shape", questions.random_config("conv_matrix", 0))


def test_every_text_exists_in_both_languages_with_its_parameters():
    for q in QUESTIONS:
        for lang in LANGUAGES:
            for key, params in [
                (q.prompt_key, q.prompt_params),
                (q.explanation_key, q.explanation_params),
                *((c.label_key, c.params) for c in q.choices),
            ]:
                text = translate(key, lang, **params)
                assert "{" not in text
                needed = {name for _, name, _, _ in string.Formatter().parse(translate(key, lang)) if name}
                assert needed <= set(params), (key, needed - set(params))
