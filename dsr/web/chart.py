"""The dashboard's monthly chart, laid out on the server: two bars a month (requests
received, requests answered), a value axis with round steps, and the month names.

Only the geometry is here; `templates/staff/_chart.svg.html` draws it as an inline SVG
with its title and description, so the page needs no script and no other site.
"""

import math
from dataclasses import dataclass

from flask_babel import format_date

from dsr.dashboard import Month

WIDTH, HEIGHT = 720, 280
#: room for the axis labels on the left and the month names below
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 40
#: at most this many steps on the value axis
MAX_TICKS = 5


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class Column:
    """One month: its name, where it is written, and its two bars."""

    label: str
    x: float
    received: Bar
    answered: Bar


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    bottom: float
    right: int
    #: (value, y) of each line of the value axis
    ticks: list[tuple[int, float]]
    columns: list[Column]


def step_for(largest: int) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving at most `MAX_TICKS` steps."""
    if largest <= MAX_TICKS:
        return 1
    power = 10 ** math.floor(math.log10(largest / MAX_TICKS))
    return next(p * power for p in (1, 2, 5, 10) if p * power * MAX_TICKS >= largest)


def layout(months: list[Month]) -> Chart:
    """The chart of these months, oldest first."""
    largest = max([1, *(m.received for m in months), *(m.answered for m in months)])
    step = step_for(largest)
    top_value = step * math.ceil(largest / step)
    plot_height, bottom = HEIGHT - TOP - BOTTOM, HEIGHT - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(months))
    bar = slot * 0.35

    def bar_at(x: float, value: int) -> Bar:
        height = plot_height * value / top_value
        return Bar(round(x, 1), round(bottom - height, 1), round(bar, 1), round(height, 1), value)

    columns = []
    for n, month in enumerate(months):
        x = LEFT + n * slot + (slot - 2 * bar) / 2
        columns.append(
            Column(
                format_date(month.start, "MMM yy"),
                round(LEFT + (n + 0.5) * slot, 1),
                bar_at(x, month.received),
                bar_at(x + bar, month.answered),
            )
        )
    ticks = [
        (value, round(bottom - plot_height * value / top_value, 1))
        for value in range(0, top_value + 1, step)
    ]
    return Chart(WIDTH, HEIGHT, LEFT, bottom, WIDTH - RIGHT, ticks, columns)
