"""Short forms of long neuron expressions and sample lists, for tables, legends and reports.

In ``d = 10..30`` a neuron's expression names ``d - 1`` generators twice (in the volume and in
its normaliser), 300+ characters.  :func:`shorten_expression` keeps the first two and the last
generator of every long run and says how many it left out, e.g.
``Vol+(P(x - x3, x5 - x3, x7 - x3, …+22…, x45 - x3)) / ||…||_1``.  The full form is always the
``expression`` attribute (``Neuron.expression``, ``net.provenance[j]["expression"]``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["shorten_expression", "shorten_samples", "DEFAULT_WIDTH"]

#: Default width (characters) past which expressions are shortened.
DEFAULT_WIDTH = 72

_ITEM = r"(?:\(x\d+ - x\d+\)|x\d+ - x\d+|x\d+|e\d+)"
_RUN = {sep: re.compile(rf"{_ITEM}(?:{re.escape(sep)}{_ITEM}){{4,}}") for sep in (", ", " ^ ")}
_NORM = re.compile(r"\|\|([^|]*)\|\|_(\d)")


def _elide_run(match: re.Match, sep: str) -> str:
    items = re.findall(_ITEM, match.group(0))
    if len(items) <= 4:
        return match.group(0)
    return sep.join([items[0], items[1], f"…+{len(items) - 3}…", items[-1]])


def shorten_expression(expr: str, width: int = DEFAULT_WIDTH) -> str:
    """``expr`` if it fits in ``width`` characters, else a shortened form (see the module docstring).

    Long runs of generators are elided to their first two and last items with a count; if that is
    still too wide, a normaliser ``||...||_p`` repeating the generators becomes ``||…||_p``, and
    finally the text is cut at ``width`` with a trailing ``…``.
    """
    if width < 8:
        raise ValueError(f"width must be at least 8; got {width}")
    if len(expr) <= width:
        return expr
    out = expr
    for sep, pat in _RUN.items():
        out = pat.sub(lambda m, s=sep: _elide_run(m, s), out)
    if len(out) > width:
        out = _NORM.sub(lambda m: f"||…||_{m.group(2)}", out)
    if len(out) > width:
        out = out[: width - 1] + "…"
    return out


def shorten_samples(samples: Sequence[int], max_items: int = 6) -> str:
    """``[3, 17, 20]``, or ``[3, 17, 20, …+21…, 45]`` (first three, last one and a count) past ``max_items``."""
    s = [int(i) for i in samples]
    if len(s) <= max_items:
        return str(s)
    return "[" + ", ".join(str(i) for i in s[:3]) + f", …+{len(s) - 4}…, {s[-1]}]"
