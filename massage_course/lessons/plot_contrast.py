"""WCAG 2.1 contrast of the course's plots: text at 4.5:1 at least (1.4.3), and the lines, markers, bars and shapes
that carry the data at 3:1 (1.4.11), each against the background it is drawn on.

A plot is a picture to the browser, so axe-core cannot see inside it: this reads the colours from the matplotlib
figure itself. Colours drawn with transparency are blended over their background first, as the eye sees them.
"""

from __future__ import annotations

from coloraide import Color
from matplotlib.colors import to_rgba

TEXT_MINIMUM = 4.5
GRAPHICS_MINIMUM = 3.0


def contrast(foreground, background) -> float:
    """WCAG 2.1 contrast ratio of two opaque matplotlib colours (names, hex strings or RGB(A) tuples)."""
    return Color("srgb", to_rgba(foreground)[:3]).contrast(Color("srgb", to_rgba(background)[:3]), method="wcag21")


def _seen(colour, background, alpha: float | None = None) -> tuple | None:
    """The opaque colour seen when ``colour`` is drawn over ``background`` (an artist's own ``alpha``, when set,
    replaces the colour's, as matplotlib does); None if it is fully transparent."""
    red, green, blue, alpha = to_rgba(colour, alpha)
    if alpha == 0:
        return None
    under = to_rgba(background)
    return tuple(alpha * c + (1 - alpha) * u for c, u in zip((red, green, blue), under[:3]))


def _texts(figure):
    for axes in figure.axes:
        yield axes, axes.title
        yield axes, axes.xaxis.label
        yield axes, axes.yaxis.label
        yield from ((axes, label) for label in axes.get_xticklabels() + axes.get_yticklabels())
        yield from ((axes, text) for text in axes.texts)
        legend = axes.get_legend()
        if legend is not None:
            yield from ((legend, text) for text in legend.get_texts())
    yield from ((figure, text) for text in figure.texts)


def _graphics(axes):
    """(name, colour, alpha) of every drawn mark that carries data in ``axes``."""
    for line in axes.lines:
        if line.get_linestyle() not in ("None", "none", ""):
            yield f"line {line.get_label()!r}", line.get_color(), line.get_alpha()
        if line.get_marker() not in ("None", "none", "", None):
            yield f"marker edge of {line.get_label()!r}", line.get_markeredgecolor(), line.get_alpha()
    for patch in axes.patches:  # a patch's colours already carry its alpha
        yield f"{type(patch).__name__}", patch.get_facecolor(), None
    for collection in axes.collections:
        for colour in collection.get_facecolors():
            yield f"{type(collection).__name__}", colour, None
    for text in axes.texts:  # arrows drawn by annotate()
        arrow = getattr(text, "arrow_patch", None)
        if arrow is not None:
            yield "arrow", arrow.get_edgecolor(), None


def background_of(owner) -> tuple:
    if hasattr(owner, "get_frame"):  # a legend: its box, over the axes
        return _seen(owner.get_frame().get_facecolor(), owner.axes.get_facecolor()) or owner.axes.get_facecolor()
    return owner.get_facecolor()


def figure_contrast_problems(figure) -> list[str]:
    """Every text and data mark of ``figure`` below its WCAG minimum, as readable lines; empty when all pass."""
    figure.canvas.draw()  # tick labels get their text and colours when the figure is drawn
    problems = []
    for owner, text in _texts(figure):
        if not text.get_visible() or not text.get_text().strip():
            continue
        background = background_of(owner)
        seen = _seen(text.get_color(), background, text.get_alpha())
        if seen is not None and (ratio := contrast(seen, background)) < TEXT_MINIMUM:
            problems.append(f"text {text.get_text()!r}: {ratio:.2f}:1, needs {TEXT_MINIMUM}:1")
    for axes in figure.axes:
        background = axes.get_facecolor()
        for name, colour, alpha in _graphics(axes):
            seen = _seen(colour, background, alpha)
            if seen is not None and (ratio := contrast(seen, background)) < GRAPHICS_MINIMUM:
                problems.append(f"{name} in {axes.get_title()!r}: {ratio:.2f}:1, needs {GRAPHICS_MINIMUM}:1")
    return problems
