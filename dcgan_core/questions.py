""" "Predict first" questions for the convolution lessons: built from a configuration,
answered with the core's own formulas, never with a second copy of them.

A question is pure data: a prompt (catalog key and parameters), four choices whose values
are short language-neutral strings (what a class's answers are pooled by), the right
value, and an explanation (catalog key, parameters and, where there is one, the core's
own substituted formula). The same lesson, kind, configuration and seed always give the
same question with the same id, so a teacher's screen and thirty students' screens agree.

    config = random_config("output_size", seed=3)
    q = make_question("output_size", "output_size", config, seed=3)
    q.is_right(q.answer)  # True
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field

import numpy as np

from dcgan_core.arithmetic import (
    conv_output_size,
    conv_transpose_output_size,
    effective_kernel_size,
    explain_conv,
    explain_conv_transpose,
    explain_pool,
)
from dcgan_core.checkerboard import is_even_overlap
from dcgan_core.i18n import LabError

CHOICES = 4
KINDS = {
    "output_size": ("output_size",),
    "conv_matrix": ("matrix_shape", "feeding_cells"),
    "transposed_conv": ("inserted_zeros",),
    "checkerboard": ("checkerboard_pair",),
}
LESSONS = tuple(KINDS)


@dataclass(frozen=True)
class Choice:
    value: str  # what is pooled and compared
    label_key: str  # how it reads: catalog key ...
    params: dict = field(default_factory=dict)  # ... and its parameters


@dataclass(frozen=True)
class Question:
    id: str
    lesson: str
    kind: str
    config: dict
    prompt_key: str
    prompt_params: dict
    choices: tuple[Choice, ...]
    answer: str
    explanation_key: str
    explanation_params: dict
    formula: str = ""  # LaTeX from the core's Explanation, when the answer has a formula

    def is_right(self, value: str | None) -> bool:
        return value == self.answer

    def choice(self, value: str) -> Choice:
        return next(c for c in self.choices if c.value == value)


def kinds(lesson: str) -> tuple[str, ...]:
    if lesson not in KINDS:
        raise ValueError(f"no questions for lesson {lesson!r}; choose one of {LESSONS}")
    return KINDS[lesson]


def kind_for(lesson: str, seed: int) -> str:
    """The lessons with several kinds of question take turns, one per seed."""
    options = kinds(lesson)
    return options[seed % len(options)]


# ---------------------------------------------------------------- random configurations


def random_config(lesson: str, seed: int) -> dict:
    """A small configuration the lesson can show, drawn from ``seed``; always a valid one."""
    rng = random.Random(f"{lesson}:{seed}")
    for _ in range(1000):
        if lesson == "output_size":
            mode = rng.choice(("conv", "conv", "transposed", "pool"))
            config = {
                "mode": mode,
                "i": rng.randint(3, 16),
                "k": rng.randint(1, 5),
                "s": rng.randint(1, 3),
                "p": rng.randint(0, 2),
                "d": 1 if mode == "pool" else rng.choice((1, 1, 2)),
                "a": 0,
            }
            if mode == "transposed":
                config["a"] = rng.randrange(max(config["s"], config["d"]))
        elif lesson == "conv_matrix":
            config = {
                "h": rng.randint(3, 7),
                "w": rng.randint(3, 7),
                "k": rng.randint(2, 3),
                "s": rng.randint(1, 2),
                "p": rng.randint(0, 1),
                "d": 1,
                "cell": rng.randrange(10_000),
            }
        elif lesson == "transposed_conv":
            config = {
                "i": rng.randint(2, 6),
                "k": rng.randint(2, 4),
                "s": rng.randint(2, 4),
                "p": rng.randint(0, 1),
                "d": 1,
                "a": 0,
            }
        elif lesson == "checkerboard":
            config = {"k": rng.randint(2, 7), "s": rng.randint(2, 4)}
        else:
            raise ValueError(f"no questions for lesson {lesson!r}; choose one of {LESSONS}")
        try:
            _check(lesson, config)
        except LabError:
            continue
        return config
    raise RuntimeError(f"no valid configuration found for {lesson}")  # cannot happen with the ranges above


def _check(lesson: str, c: dict) -> None:
    """Raises the core's LabError when the configuration is not a valid one."""
    if lesson == "output_size":
        _output_size_explanation(c)
    elif lesson == "conv_matrix":
        conv_output_size((c["h"], c["w"]), c["k"], c["s"], c["p"], c["d"])
    elif lesson == "transposed_conv":
        conv_transpose_output_size(c["i"], c["k"], c["s"], c["p"], c["d"], c["a"])
    elif lesson == "checkerboard":
        is_even_overlap(c["k"], c["s"])


# ---------------------------------------------------------------- the questions


def make_question(lesson: str, kind: str, config: dict, seed: int = 0) -> Question:
    """The ``kind`` question on ``config``; LabError (from the core) when the configuration is invalid."""
    if kind not in kinds(lesson):
        raise ValueError(f"lesson {lesson!r} has no {kind!r} question; choose one of {kinds(lesson)}")
    config = {name: (value if isinstance(value, str) else int(value)) for name, value in config.items()}
    build = {
        "output_size": _output_size,
        "matrix_shape": _matrix_shape,
        "feeding_cells": _feeding_cells,
        "inserted_zeros": _inserted_zeros,
        "checkerboard_pair": _checkerboard_pair,
    }[kind]
    fields = build(config, seed)
    identity = json.dumps([lesson, kind, config, seed], sort_keys=True)
    return Question(
        id=hashlib.sha1(identity.encode()).hexdigest()[:12], lesson=lesson, kind=kind, config=config, **fields
    )


def _number_choices(right: int, mistakes: list[int], low: int = 0) -> tuple[tuple[Choice, ...], str]:
    """The right number and up to three plausible wrong ones (typical slips first), in order."""
    values = [right]
    for candidate in [*mistakes, right + 1, right - 1, right + 2, right - 2, right + 3, right + 4]:
        if candidate >= low and candidate not in values:
            values.append(candidate)
        if len(values) == CHOICES:
            break
    return tuple(Choice(str(v), "classroom.choice_number", {"value": v}) for v in sorted(values)), str(right)


def _output_size_explanation(c: dict):
    mode = c["mode"]
    if mode == "conv":
        return explain_conv(c["i"], c["k"], c["s"], c["p"], c["d"])
    if mode == "transposed":
        return explain_conv_transpose(c["i"], c["k"], c["s"], c["p"], c["d"], c["a"])
    if mode == "pool":
        return explain_pool(c["i"], c["k"], c["s"], c["p"])
    raise ValueError(f"unknown operation {mode!r}")


def _output_size(c: dict, seed: int) -> dict:
    explanation = _output_size_explanation(c)
    o = explanation.result
    i, k, s, p, d, a = (c[name] for name in ("i", "k", "s", "p", "d", "a"))
    span = effective_kernel_size(k, d)
    if c["mode"] == "transposed":
        # the convolution's formula by mistake; padding added instead of removed; no "+1"
        mistakes = [(i + 2 * p - span) // s + 1, (i - 1) * s + 2 * p + d * (k - 1) + a + 1, o - 1, i * s]
    else:
        # no "+1"; padding forgotten; stride forgotten; dilation forgotten
        mistakes = [(i + 2 * p - span) // s, (i - span) // s + 1, i + 2 * p - span + 1, (i + 2 * p - k) // s + 1]
    choices, answer = _number_choices(o, mistakes, low=1)
    return {
        "prompt_key": f"classroom.q_output_size_{c['mode']}",
        "prompt_params": {**c, "a": a},
        "choices": choices,
        "answer": answer,
        "explanation_key": f"classroom.x_output_size_{c['mode']}",
        "explanation_params": {"o": o},
        "formula": explanation.substituted,
    }


def _matrix_shape(c: dict, seed: int) -> dict:
    from dcgan_core.convmatrix import conv_matrix_index  # lazily: it imports torch

    h, w, k, s, p, d = (c[name] for name in ("h", "w", "k", "s", "p", "d"))
    index = conv_matrix_index((h, w), k, s, p, d)
    (oh, ow), (rows, cols) = index.output_size, index.shape
    candidates = [
        (rows, cols),
        (cols, rows),
        (rows, (h + 2 * p) * (w + 2 * p)),
        (oh, h),
        (oh * ow, k * k),
        (rows, cols + 1),
        (rows + 1, cols),
    ]
    shapes = []
    for shape in candidates:
        if shape not in shapes and min(shape) >= 1:
            shapes.append(shape)
    shapes = shapes[:CHOICES]
    choices = tuple(Choice(f"{r}x{q}", "classroom.choice_shape", {"rows": r, "cols": q}) for r, q in sorted(shapes))
    return {
        "prompt_key": "classroom.q_matrix_shape",
        "prompt_params": {"h": h, "w": w, "k": k, "s": s, "p": p, "d": d},
        "choices": choices,
        "answer": f"{rows}x{cols}",
        "explanation_key": "classroom.x_matrix_shape",
        "explanation_params": {"oh": oh, "ow": ow, "rows": rows, "cols": cols, "h": h, "w": w},
    }


def unit_ranges(units) -> str:
    """'0–2, 4' for the sorted unit indices given."""
    units = sorted(set(int(u) for u in units))
    runs, start = [], None
    for n, v in enumerate(units):
        if start is None:
            start = v
        if n + 1 == len(units) or units[n + 1] != v + 1:
            runs.append(f"{start}" if start == v else f"{start}–{v}")
            start = None
    return ", ".join(runs)


def _window(out: int, k: int, s: int, p: int, d: int, size: int, shift: int = 0) -> list[int]:
    """The input units under a window placed at out·s − p + shift (clipped to the input)."""
    start = out * s - p + shift
    return [u for u in range(start, start + d * (k - 1) + 1, d) if 0 <= u < size]


def _feeding_cells(c: dict, seed: int) -> dict:
    from dcgan_core.convmatrix import conv_matrix_index  # lazily: it imports torch

    h, w, k, s, p, d = (c[name] for name in ("h", "w", "k", "s", "p", "d"))
    index = conv_matrix_index((h, w), k, s, p, d)
    oh, ow = index.output_size
    row = c["cell"] % (oh * ow)
    out_r, out_c = divmod(row, ow)
    columns = index.cols[index.rows == row]  # the non-zeros of C's row: the input units this output reads
    right = (unit_ranges(columns // w), unit_ranges(columns % w))
    # slips: padding forgotten, stride forgotten, one unit too far; then rows and columns swapped
    candidates = [right]
    for stride, shift in ((s, p), (1, 0), (s, 1)):
        rows, cols = _window(out_r, k, stride, p, d, h, shift), _window(out_c, k, stride, p, d, w, shift)
        if rows and cols:
            candidates.append((unit_ranges(rows), unit_ranges(cols)))
    candidates.append((right[1], right[0]))
    for extra in range(1, max(h, w)):
        for dr, dc in ((extra, 0), (0, extra), (-extra, 0), (0, -extra)):
            rows = [u + dr for u in columns // w]
            cols = [u + dc for u in columns % w]
            if min(rows) >= 0 and max(rows) < h and min(cols) >= 0 and max(cols) < w:
                candidates.append((unit_ranges(rows), unit_ranges(cols)))
    chosen = []
    for candidate in candidates:
        if candidate not in chosen:
            chosen.append(candidate)
        if len(chosen) == CHOICES:
            break
    choices = tuple(Choice(f"r{r}|c{q}", "classroom.choice_cells", {"rows": r, "cols": q}) for r, q in sorted(chosen))
    return {
        "prompt_key": "classroom.q_feeding_cells",
        "prompt_params": {"h": h, "w": w, "k": k, "s": s, "p": p, "d": d, "r": out_r, "c": out_c, "row": row},
        "choices": choices,
        "answer": f"r{right[0]}|c{right[1]}",
        "explanation_key": "classroom.x_feeding_cells",
        "explanation_params": {
            "row": row,
            "rows": right[0],
            "cols": right[1],
            "count": int(len(columns)),
            "r": out_r,
            "c": out_c,
            "s": s,
            "p": p,
        },
    }


def _inserted_zeros(c: dict, seed: int) -> dict:
    from dcgan_core.transposed import zero_insert  # lazily: it imports torch

    i, s = c["i"], c["s"]
    stretched = zero_insert(np.ones((i, i)), s)
    zeros = int((stretched == 0).sum())
    n = stretched.shape[0]
    mistakes = [(i - 1) * (s - 1), 2 * i * (i - 1) * (s - 1), (s - 1) * i * i, (i * s) ** 2 - i * i]
    choices, answer = _number_choices(zeros, mistakes, low=0)
    return {
        "prompt_key": "classroom.q_inserted_zeros",
        "prompt_params": {"i": i, "s": s, "k": c["k"], "p": c["p"]},
        "choices": choices,
        "answer": answer,
        "explanation_key": "classroom.x_inserted_zeros",
        "explanation_params": {"i": i, "s": s, "gaps": s - 1, "n": n, "zeros": zeros, "cells": n * n},
    }


def _checkerboard_pair(c: dict, seed: int) -> dict:
    """Which one of four kernel/stride pairs leaves a checkerboard (uneven overlap)? The lesson's
    current pair is always one of the four; exactly one of them is uneven."""
    rng = random.Random(f"checkerboard:{c['k']}:{c['s']}:{seed}")
    current = (c["k"], c["s"])
    pairs = [(k, s) for k in range(2, 9) for s in range(2, 5) if (k, s) != current]
    even = [pair for pair in pairs if is_even_overlap(*pair)]
    uneven = [pair for pair in pairs if not is_even_overlap(*pair)]
    if is_even_overlap(*current):
        chosen = [current, rng.choice(uneven), *rng.sample(even, CHOICES - 2)]
    else:
        chosen = [current, *rng.sample(even, CHOICES - 1)]
    right = next(pair for pair in chosen if not is_even_overlap(*pair))
    rng.shuffle(chosen)
    choices = tuple(Choice(f"k{k}s{s}", "classroom.choice_pair", {"k": k, "s": s}) for k, s in chosen)
    k, s = right
    return {
        "prompt_key": "classroom.q_checkerboard_pair",
        "prompt_params": {},
        "choices": choices,
        "answer": f"k{k}s{s}",
        "explanation_key": "classroom.x_checkerboard_pair",
        "explanation_params": {"k": k, "s": s, "rest": k % s},
    }
