"""Survey instruments: the questions internal customers answer about a provider.

An :class:`Instrument` is a list of :class:`Dimension` objects, each a list of
:class:`Item` objects on one :class:`Scale`. Four instruments are built in, all
worded for this product (none copies a published questionnaire):

- ``internal_servqual`` — the five SERVQUAL dimensions of Parasuraman, Zeithaml &
  Berry (1988) read for a provider inside the organisation; every item is answered
  twice, for what the customer expects and for what it gets, on 1–7, and an
  optional 100-point split says how much each dimension matters;
- ``service_factors`` — the five factors internal customers judge according to
  Marshall, Baker & Finn (1998), plus an ``overall`` satisfaction item;
- ``pulse`` — the two continuous-feedback questions;
- ``recommend`` — likelihood to recommend on 0–10 (the net promoter question);
- ``partnership`` — the other direction: a provider rates its customer as a partner
  (clear requests, lead times, inputs on time, shared priorities, appreciation, joint
  problem solving), so both sides of a relationship are heard.

Other instruments come from the bundle's ``items.csv`` (:func:`read_items`). In
every instrument the dimension named ``overall`` is the outcome that key-driver
analysis explains with the other dimensions.

Item texts may hold ``{provider}``; :meth:`Item.wording` fills in the unit's name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from valuechain.domain.bundle_schema import BundleProblem, Row, show

#: The dimension that driver analysis explains.
OUTCOME = "overall"

#: The placeholder for the rated unit's name in an item text.
PROVIDER = "{provider}"

#: Points a respondent splits across the dimensions of an instrument with an
#: importance question.
IMPORTANCE_POINTS = 100


@dataclass(frozen=True, slots=True)
class Scale:
    """A rating scale of whole numbers from ``low`` to ``high``. The end labels are
    wording only: two scales with the same ends are the same scale."""

    low: int
    high: int
    low_label: str = field(default="", compare=False)
    high_label: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.high <= self.low:
            raise ValueError(f"a scale needs low < high, got {self.low}..{self.high}")

    @property
    def points(self) -> int:
        """How many answers the scale offers."""
        return self.high - self.low + 1

    def contains(self, value: float) -> bool:
        """Whether ``value`` is a whole number on the scale."""
        return math.isfinite(value) and value == int(value) and self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low}–{self.high}"


AGREE_7 = Scale(1, 7, "strongly disagree", "strongly agree")
EXTENT_7 = Scale(1, 7, "not at all", "fully")
SATISFIED_7 = Scale(1, 7, "very dissatisfied", "very satisfied")
NEED_5 = Scale(1, 5, "not at all", "completely")
LIKELY_11 = Scale(0, 10, "not at all likely", "extremely likely")


@dataclass(frozen=True, slots=True)
class Item:
    """One question. ``scale`` is ``None`` for a free-text question.

    ``expectation`` is true when the item is answered twice: what the respondent
    expects of an excellent internal provider, and what it gets from this one.
    """

    key: str
    dimension: str
    text: str
    scale: Scale | None
    expectation: bool = False

    @property
    def is_text(self) -> bool:
        return self.scale is None

    def wording(self, provider: str) -> str:
        """The text as a respondent reads it, with the provider's name filled in."""
        return self.text.replace(PROVIDER, provider)


@dataclass(frozen=True, slots=True)
class Dimension:
    """A group of items that together measure one aspect of the service."""

    key: str
    label: str
    items: tuple[Item, ...]

    @property
    def scale(self) -> Scale | None:
        """The scale shared by the dimension's items (``None`` for free text)."""
        return self.items[0].scale if self.items else None


@dataclass(frozen=True)
class Instrument:
    """A questionnaire: dimensions of items, in the order a respondent meets them."""

    key: str
    name: str
    dimensions: tuple[Dimension, ...]
    description: str = ""
    importance_split: bool = False
    built_in: bool = False
    expectation_prompt: str = ""
    perception_prompt: str = ""
    #: True when the rater is the provider and the rated unit its customer.
    rates_customer: bool = False
    _items: dict[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        items: dict[str, Item] = {}
        for dimension in self.dimensions:
            for item in dimension.items:
                if item.key in items:
                    raise ValueError(f"instrument {self.key}: item {item.key} appears twice")
                if item.dimension != dimension.key:
                    raise ValueError(f"item {item.key} is filed under {dimension.key}")
                items[item.key] = item
        object.__setattr__(self, "_items", items)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(self._items.values())

    def item(self, key: str) -> Item:
        """The item called ``key``; ``KeyError`` when the instrument has none."""
        return self._items[key]

    def dimension(self, key: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.key == key:
                return dimension
        raise KeyError(key)

    @property
    def outcome(self) -> Dimension | None:
        """The ``overall`` dimension that driver analysis explains, if any."""
        for dimension in self.dimensions:
            if dimension.key == OUTCOME:
                return dimension
        return None

    @property
    def drivers(self) -> tuple[Dimension, ...]:
        """The rated dimensions that may explain the outcome (all but ``overall``)."""
        return tuple(d for d in self.dimensions if d.key != OUTCOME and d.scale is not None)

    @property
    def asks_expectation(self) -> bool:
        return any(item.expectation for item in self.items)

    def item_dimension(self) -> tuple[int, ...]:
        """For each item in :attr:`items` order, the position of its dimension;
        the layout :func:`valuechain.analytics.score.dimension_scores` expects."""
        position = {d.key: i for i, d in enumerate(self.dimensions)}
        return tuple(position[item.dimension] for item in self.items)

    def importance_problems(self, points: Mapping[str, float]) -> list[str]:
        """What is wrong with one respondent's importance split (empty when valid):
        whole, non-negative points for exactly the rated dimensions, adding to 100."""
        if not self.importance_split:
            return [f"{self.name} asks no importance split"]
        wanted = {d.key for d in self.drivers}
        problems = [f"no dimension {key}" for key in sorted(points.keys() - wanted)]
        problems += [f"no points for {key}" for key in sorted(wanted - points.keys())]
        for key, value in sorted(points.items()):
            if not (math.isfinite(value) and value >= 0 and value == int(value)):
                problems.append(f"{key}: points must be a whole number of 0 or more, got {value}")
        total = sum(points.values())
        if not problems and total != IMPORTANCE_POINTS:
            problems.append(f"points must add up to {IMPORTANCE_POINTS}, got {total:g}")
        return problems


def _dimension(
    key: str, label: str, scale: Scale | None, *texts: str, twice: bool = False
) -> Dimension:
    items = tuple(
        Item(f"{key}_{i}", key, text, scale, expectation=twice) for i, text in enumerate(texts, 1)
    )
    return Dimension(key, label, items)


INTERNAL_SERVQUAL = Instrument(
    key="internal_servqual",
    name="Internal SERVQUAL",
    description=(
        "Expectation and perception of the service of one internal provider on the five "
        "SERVQUAL dimensions; the gap P − E shows where the service falls short."
    ),
    importance_split=True,
    built_in=True,
    expectation_prompt="What would an excellent internal provider do? (1 = not at all, 7 = fully)",
    perception_prompt=f"What does {PROVIDER} do? (1 = not at all, 7 = fully)",
    dimensions=(
        _dimension(
            "tangibles",
            "Tools and information",
            EXTENT_7,
            f"{PROVIDER} gives us the templates, systems and access we need to use its work.",
            f"Information from {PROVIDER} is complete and easy to find.",
            f"What {PROVIDER} hands over is laid out so that we can use it straight away.",
            twice=True,
        ),
        _dimension(
            "reliability",
            "Reliability",
            EXTENT_7,
            f"{PROVIDER} delivers on the date it agreed with us.",
            f"Work from {PROVIDER} is right the first time, without rework on our side.",
            f"When {PROVIDER} cannot keep a commitment, we hear it before the due date.",
            f"Figures and records we get from {PROVIDER} can be relied on.",
            twice=True,
        ),
        _dimension(
            "responsiveness",
            "Responsiveness",
            EXTENT_7,
            f"{PROVIDER} gives a first answer to our requests quickly.",
            f"{PROVIDER} is willing to help with requests outside its routine.",
            f"{PROVIDER} tells us clearly when our request will be handled.",
            twice=True,
        ),
        _dimension(
            "assurance",
            "Assurance",
            EXTENT_7,
            f"The people of {PROVIDER} know their subject well.",
            f"We feel confident acting on the advice {PROVIDER} gives.",
            f"{PROVIDER} keeps what we share with it appropriately confidential.",
            twice=True,
        ),
        _dimension(
            "empathy",
            "Empathy",
            EXTENT_7,
            f"{PROVIDER} takes our deadlines and constraints into account.",
            f"{PROVIDER} understands what our own customers need from us.",
            f"We can reach someone at {PROVIDER} at times that suit our work.",
            twice=True,
        ),
    ),
)

SERVICE_FACTORS = Instrument(
    key="service_factors",
    name="Internal service factors",
    description=(
        "The five factors internal customers judge a provider on (Marshall, Baker & "
        "Finn 1998), with an overall satisfaction item as the outcome."
    ),
    built_in=True,
    dimensions=(
        _dimension(
            "courtesy",
            "Friendliness and courtesy",
            AGREE_7,
            f"The people of {PROVIDER} are friendly when we contact them.",
            f"{PROVIDER} treats our requests with respect, whatever their size.",
        ),
        _dimension(
            "promptness",
            "Promptness and thoroughness",
            AGREE_7,
            f"{PROVIDER} handles our requests without delay.",
            f"{PROVIDER} finishes its work thoroughly, not only quickly.",
        ),
        _dimension(
            "conscientiousness",
            "Conscientiousness",
            AGREE_7,
            f"{PROVIDER} follows through on what it says it will do.",
            f"{PROVIDER} takes care over the details of its work.",
        ),
        _dimension(
            "value",
            "Value delivered",
            AGREE_7,
            f"What we receive from {PROVIDER} helps us serve our own customers.",
            f"Working with {PROVIDER} is worth the time and effort it takes us.",
            f"{PROVIDER} delivers what we need, not only what we asked for.",
        ),
        _dimension(
            "problem_solving",
            "Ability to solve problems",
            AGREE_7,
            f"{PROVIDER} finds a way forward when something goes wrong.",
            f"{PROVIDER} deals with the cause of a problem, not only its symptoms.",
        ),
        _dimension(
            OUTCOME,
            "Overall satisfaction",
            SATISFIED_7,
            f"All things considered, how satisfied are you with the service of {PROVIDER}?",
        ),
    ),
)

PULSE = Instrument(
    key="pulse",
    name="Pulse",
    description="Two short questions for continuous feedback between formal surveys.",
    built_in=True,
    dimensions=(
        Dimension(
            "need",
            "Getting what we need",
            (
                Item(
                    "need_now",
                    "need",
                    f"Are you getting what you need from {PROVIDER} right now?",
                    NEED_5,
                ),
            ),
        ),
        Dimension(
            "better",
            "What could be better",
            (
                Item(
                    "better_next",
                    "better",
                    f"What could {PROVIDER} do better to meet your needs?",
                    None,
                ),
            ),
        ),
    ),
)

RECOMMEND = Instrument(
    key="recommend",
    name="Recommend",
    description="Likelihood to recommend (net promoter question); see analytics.nps.",
    built_in=True,
    dimensions=(
        Dimension(
            "recommend",
            "Would recommend",
            (
                Item(
                    "recommend",
                    "recommend",
                    f"How likely are you to recommend {PROVIDER}'s service to a colleague?",
                    LIKELY_11,
                ),
            ),
        ),
    ),
)

PARTNERSHIP = Instrument(
    key="partnership",
    name="Partnership",
    description=(
        "A provider's view of a customer as a partner: the internal-customer model only "
        "works when both sides hold up their end, so the provider rates the customer too."
    ),
    built_in=True,
    rates_customer=True,
    dimensions=(
        _dimension(
            "clear_requests",
            "Clear requests",
            AGREE_7,
            f"When {PROVIDER} asks us for something, it says plainly what it needs and why.",
            f"Requests from {PROVIDER} come with the information we need to start.",
        ),
        _dimension(
            "lead_times",
            "Reasonable lead times",
            AGREE_7,
            f"{PROVIDER} gives us enough time to do its work well.",
            f"Urgent requests from {PROVIDER} are truly urgent.",
        ),
        _dimension(
            "inputs_on_time",
            "Inputs on time",
            AGREE_7,
            f"What we need from {PROVIDER} to do our part arrives when it agreed.",
            f"{PROVIDER} tells us early when its inputs to us will be late.",
        ),
        _dimension(
            "shared_priorities",
            "Shared priorities",
            AGREE_7,
            f"{PROVIDER} and we agree on which of its requests matter most.",
            f"{PROVIDER} weighs its requests against what the external customer needs.",
        ),
        _dimension(
            "appreciation",
            "Appreciation",
            AGREE_7,
            f"{PROVIDER} lets us know when our work made a difference for it.",
            f"{PROVIDER} treats our people as colleagues, not as a vending machine.",
        ),
        _dimension(
            "joint_problem_solving",
            "Joint problem solving",
            AGREE_7,
            f"When something goes wrong between us, {PROVIDER} works on it with us.",
            f"{PROVIDER} is open to changing its own way of working to fix a shared problem.",
        ),
        _dimension(
            OUTCOME,
            "Overall partnership",
            SATISFIED_7,
            f"All things considered, how satisfied are you with {PROVIDER} as a partner?",
        ),
    ),
)

#: Topics both sides of a relationship speak about, each from its own side: how the
#: customers rate a provider (internal service factors) and how providers rate a
#: customer (partnership). The relationship page puts each pair side by side.
MIRRORED_TOPICS: tuple[tuple[str, str, str], ...] = (
    ("Respect and appreciation", "courtesy", "appreciation"),
    ("Time: prompt service and fair lead times", "promptness", "lead_times"),
    (
        "Keeping one's word: follow-through and inputs on time",
        "conscientiousness",
        "inputs_on_time",
    ),
    ("What matters: value delivered and shared priorities", "value", "shared_priorities"),
    ("Solving problems, together", "problem_solving", "joint_problem_solving"),
    ("Overall", OUTCOME, OUTCOME),
)

#: The instruments every organisation has, by key.
BUILT_IN: Mapping[str, Instrument] = {
    i.key: i for i in (INTERNAL_SERVQUAL, SERVICE_FACTORS, PULSE, RECOMMEND, PARTNERSHIP)
}

# --- Custom instruments from items.csv -------------------------------------------

ITEMS_FILE = "items.csv"
ITEMS_COLUMNS: tuple[str, ...] = (
    "instrument",
    "item",
    "dimension",
    "text",
    "scale_min",
    "scale_max",
)
ITEMS_REQUIRED: frozenset[str] = frozenset({"instrument", "item", "dimension", "text"})
_Reporter = Callable[[int | None, str | None, str, str], None]

#: The scale of an item whose row gives none.
DEFAULT_SCALE = Scale(1, 7)
#: The widest scale accepted (0–100 covers slider questions).
SCALE_LIMITS = (-100, 100)


@dataclass(slots=True)
class ItemsReading:
    """The instruments read from ``items.csv`` (empty when there are problems)."""

    instruments: dict[str, Instrument]
    problems: list[BundleProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def read_items(header: Sequence[str], rows: Iterable[Row], file: str = ITEMS_FILE) -> ItemsReading:
    """Build custom instruments from ``items.csv`` rows, or say what is wrong.

    Every problem names the file, line and column. Checks: known and required
    columns; no built-in instrument name; an item key once per instrument; no item
    text twice in an instrument; whole-number scales with ``scale_min < scale_max``
    (both or neither; neither means 1–7); one scale per dimension, so dimension
    scores and reliability are comparable across its items; an ``overall``
    dimension, when present, is not the instrument's only dimension.
    """
    problems: list[BundleProblem] = []

    def problem(line: int | None, column: str | None, expected: str, found: str) -> None:
        problems.append(BundleProblem(file, line, column, expected, found))

    names = [name.strip() for name in header]
    for name in names:
        if name not in ITEMS_COLUMNS:
            problem(
                1, name, "one of " + ", ".join(ITEMS_COLUMNS), f"an unknown column {show(name)}"
            )
    for name in ITEMS_COLUMNS:
        if name in ITEMS_REQUIRED and name not in names:
            problem(1, None, f"a column {name}", "none")
    if problems:
        return ItemsReading({}, problems)
    where = {name: i for i, name in enumerate(names)}

    # instrument -> dimension -> items, keeping first-seen order; with lines for messages
    found: dict[str, dict[str, list[Item]]] = {}
    first_line: dict[str, int] = {}
    keys: dict[tuple[str, str], int] = {}
    texts: dict[tuple[str, str], int] = {}
    scales: dict[tuple[str, str], tuple[Scale, int]] = {}
    for line, cells in rows:

        def cell(name: str, cells: Sequence[str] = cells) -> str:
            i = where.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        if len(cells) > len(names):
            problem(line, None, f"{len(names)} cells", f"{len(cells)} cells")
            continue
        values = {name: cell(name) for name in ITEMS_COLUMNS}
        missing = [name for name in ITEMS_COLUMNS if name in ITEMS_REQUIRED and not values[name]]
        for name in missing:
            problem(line, name, "a value", "an empty cell")
        if missing:
            continue
        instrument, key, dimension = values["instrument"], values["item"], values["dimension"]
        if instrument in BUILT_IN:
            problem(line, "instrument", "a name that is not built in", show(instrument))
            continue
        scale = _read_scale(line, values["scale_min"], values["scale_max"], problem)
        if scale is None:
            continue
        if (instrument, key) in keys:
            problem(
                line, "item", f"an item key used once (line {keys[instrument, key]})", show(key)
            )
            continue
        text_key = (instrument, " ".join(values["text"].casefold().split()))
        if text_key in texts:
            problem(line, "text", f"a text not used before (line {texts[text_key]})", "a repeat")
            continue
        shared = scales.get((instrument, dimension))
        if shared is not None and shared[0] != scale:
            problem(
                line,
                "scale_min",
                f"the scale {shared[0]} of dimension {dimension} (line {shared[1]})",
                str(scale),
            )
            continue
        keys[instrument, key] = line
        texts[text_key] = line
        scales.setdefault((instrument, dimension), (scale, line))
        first_line.setdefault(instrument, line)
        found.setdefault(instrument, {}).setdefault(dimension, []).append(
            Item(key, dimension, values["text"], scale)
        )
    for instrument, dims in found.items():
        if list(dims) == [OUTCOME]:
            problem(
                first_line[instrument],
                "dimension",
                f"dimensions besides {OUTCOME} in instrument {instrument}",
                f"only {OUTCOME}",
            )
    if problems:
        return ItemsReading({}, problems)
    instruments = {
        name: Instrument(
            key=name,
            name=name,
            dimensions=tuple(
                Dimension(d, d.replace("_", " ").capitalize(), tuple(items))
                for d, items in dims.items()
            ),
        )
        for name, dims in found.items()
    }
    return ItemsReading(instruments, [])


def _read_scale(line: int, low: str, high: str, problem: _Reporter) -> Scale | None:
    if not low and not high:
        return DEFAULT_SCALE
    bounds: list[int] = []
    for column, text in (("scale_min", low), ("scale_max", high)):
        try:
            value = int(text)
        except ValueError:
            problem(
                line,
                column,
                "a whole number (give both scale_min and scale_max, or neither)",
                show(text),
            )
            continue
        if not SCALE_LIMITS[0] <= value <= SCALE_LIMITS[1]:
            problem(
                line, column, f"a whole number from {SCALE_LIMITS[0]} to {SCALE_LIMITS[1]}", text
            )
            continue
        bounds.append(value)
    if len(bounds) < 2:
        return None
    if bounds[0] >= bounds[1]:
        problem(line, "scale_max", f"a number above scale_min {bounds[0]}", str(bounds[1]))
        return None
    return Scale(bounds[0], bounds[1])


def instrument_of(key: str, custom: Mapping[str, Instrument] | None = None) -> Instrument:
    """The built-in or custom instrument called ``key``; ``KeyError`` when none."""
    if key in BUILT_IN:
        return BUILT_IN[key]
    if custom is not None and key in custom:
        return custom[key]
    raise KeyError(key)
