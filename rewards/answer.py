"""Rule-based answer checking for table QA: does a predicted answer string match the gold value?

TableGPT-R1-style rewards need a verifier that is strict about content but forgiving about the
many ways one value can be written. The gold is a Python value (number, str, bool, date,
None or a list of these); the prediction is the text the agent gave (the env has already taken
it out of its ``<answer>`` tags). The rules, in the order they are tried for one value:

Missing values
    Gold ``None`` / NaN / NaT / ``pd.NA`` / an empty list, or a gold string such as ``"n/a"``,
    matches a prediction in :data:`NONE_WORDS` (``none``, ``null``, ``n/a``, ``na``, ``nan``,
    ``nil``, ``-``, ``[]``...). An empty prediction matches nothing: no answer is not an answer.
Booleans
    ``True``/``False`` (or gold text ``"yes"``/``"no"``...) match ``true``/``yes``/``y`` and
    ``false``/``no``/``n``, in any case. Booleans never match numbers (``"1"`` is not ``True``).
Dates
    Gold ``date``/``datetime``/``pd.Timestamp`` (or gold text that reads as a full date) matches a
    prediction naming the same day: ISO ``2023-01-05`` (and ``2023/01/05``), ``Jan 5, 2023``,
    ``5 January 2023``, ``January 5th, 2023``, ``05-Jan-2023``. Slashed dates with the year last
    are **US order, month first**: ``01/05/2023`` is January 5th. A text needs a four-digit year
    and a day to count as a date. A gold datetime with a time of day other than midnight must
    match to the second.
Numbers
    Thousands separators (``1,234.5``), currency symbols and codes (``$1,200``, ``USD 5``),
    a trailing unit of one or two words (``12 kg``, ``3.5 km``, ``80 km/h``) and scale words
    (``1.5 million``) are handled; units are stripped, not converted or checked. Numbers match
    with relative tolerance ``rel_tol`` (and an absolute 1e-9 near zero). **Percentages:** a
    percent sign (``%``, ``percent``) on either side lets that number stand for itself or for
    its hundredth, so ``"12.5%"`` matches gold ``12.5`` and gold ``0.125``; a bare number is
    never rescaled (``"0.125"`` does not match gold ``12.5``). **Rounding:** a prediction written
    with d ≥ 2 decimals also matches a gold that rounds to it (``"33.33"`` for 33.3333...), and a
    gold *string* written with d ≥ 1 decimals (a benchmark's rounded answer) matches a
    prediction that rounds to it.
Text
    Otherwise both sides are compared after :func:`normalize_answer`: Unicode NFKC, case-folded,
    punctuation and the articles a/an/the removed, whitespace collapsed.
Lists
    A gold list (or tuple, set, array) is compared item by item. The prediction is split on
    ``;``, ``|`` and newlines, or else on commas (not the ones inside ``1,234``) and ``and``;
    surrounding brackets and quotes go. Several readings are tried (whole, strong separators,
    commas, commas and "and") and any that matches counts, so ``"Smith, John"`` can still be one
    item. Unordered (the default): the prediction's items and the gold's items must cover each
    other, i.e. they are compared **as sets** (repeats do not matter). ``order_matters=True``:
    same length and item i matches item i. A reading of more than :data:`MAX_ITEMS` items never
    matches, so a flood of guesses costs the verifier nothing.
A scalar gold also accepts a one-item list (``"[12]"``).

:func:`answer_score` is :func:`verify_answer` as 1.0/0.0, except for unordered list golds, where
it gives partial credit: the F1 of the item sets (precision = share of predicted items that
match a gold item, recall = share of gold items matched), the best over the readings. It is a
denser signal for shaping or metrics; success should use :func:`verify_answer`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from dateutil import parser as date_parser

NONE_WORDS: frozenset[str] = frozenset(
    {"none", "null", "n/a", "na", "n.a", "nan", "nil", "-", "--", "—", "[]", "no answer", "nothing"}
)
TRUE_WORDS: frozenset[str] = frozenset({"true", "yes", "y"})
FALSE_WORDS: frozenset[str] = frozenset({"false", "no", "n"})
ABS_TOL = 1e-9
MAX_ITEMS = 1000  # a predicted list longer than this matches nothing (and costs nothing to reject)

# ---------------------------------------------------------------------------------------------
# Text


_ARTICLES_RE = re.compile(r"\b(a|an|the)\b")
_PUNCT_TABLE = str.maketrans("", "", string.punctuation + "‘’“”–—…")


def normalize_answer(text: str) -> str:
    """Lower-case, punctuation- and article-free, single-spaced text (SQuAD-style normalisation)."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    text = text.translate(_PUNCT_TABLE)
    text = _ARTICLES_RE.sub(" ", text)
    return " ".join(text.split())


def _clean(text: str) -> str:
    """Trim whitespace, enclosing quotes and a final full stop; unify minus signs."""
    text = unicodedata.normalize("NFKC", text).replace("−", "-").strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        text = text[1:-1].strip()
    return text.rstrip(".").strip() if not text.endswith("..") else text


def is_none_word(text: str) -> bool:
    """True for the ways of writing 'no value' (see :data:`NONE_WORDS`)."""
    return _clean(text).casefold() in NONE_WORDS


def parse_bool(text: str) -> bool | None:
    """True/False for yes/no words, else None."""
    word = _clean(text).casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


# ---------------------------------------------------------------------------------------------
# Numbers


@dataclass(frozen=True)
class ParsedNumber:
    """A number read from text: its value, whether it carried a percent sign, its decimals."""

    value: float
    percent: bool = False
    decimals: int = 0

    def readings(self) -> tuple[float, ...]:
        """The values this number may stand for: itself, and its hundredth when it was a percentage."""
        return (self.value, self.value / 100.0) if self.percent else (self.value,)


_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_NUMBER_RE = re.compile(
    r"""^
    (?P<sign>[+-])?\s*
    (?:(?P<currency>[$€£¥₹]|usd|eur|gbp|jpy|inr|rs\.?)\s*)?
    (?P<sign2>[+-])?\s*
    (?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<frac>\d+))?
    (?P<exp>[eE][+-]?\d+)?
    \s*(?P<scale>thousand|million|billion|trillion)?
    \s*(?P<percent>%|percent|per\s?cent|pct)?
    (?:\s*(?P<unit>[^\W\d_][^\s\d]*|°\w*)(?:\s+[^\W\d_][^\s\d]*)?)?
    $""",
    re.VERBOSE | re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def parse_number(text: str) -> ParsedNumber | None:
    """The number a text writes (``"$1,200"``, ``"12.5%"``, ``"3.5 km"``, ``"-4"``), or None."""
    match = _NUMBER_RE.match(_clean(text))
    if match is None or (match["int"] is None and match["frac"] is None):
        return None
    if match["sign"] and match["sign2"]:
        return None
    digits = (match["int"] or "0").replace(",", "") + "." + (match["frac"] or "0") + (match["exp"] or "")
    value = float(digits)
    if match["scale"]:
        value *= _SCALES[match["scale"].lower()]
    if "-" in ((match["sign"] or "") + (match["sign2"] or "")):
        value = -value
    decimals = len(match["frac"] or "") if not (match["exp"] or match["scale"]) else 0
    return ParsedNumber(value, percent=bool(match["percent"]), decimals=decimals)


def numbers_match(predicted: ParsedNumber, gold: ParsedNumber, *, rel_tol: float, gold_is_text: bool) -> bool:
    """Tolerance, percentages and rounding, as the module docstring lays out."""
    for p in predicted.readings():
        for g in gold.readings():
            if math.isclose(p, g, rel_tol=rel_tol, abs_tol=ABS_TOL):
                return True
            if predicted.decimals >= 2 and _rounds_to(g, p, predicted.decimals):
                return True
            if gold_is_text and gold.decimals >= 1 and _rounds_to(p, g, gold.decimals):
                return True
    return False


def _rounds_to(exact: float, rounded: float, decimals: int) -> bool:
    """Whether ``exact`` rounded to ``decimals`` places gives ``rounded`` (half-way cases either way)."""
    return abs(exact - rounded) <= 0.5 * 10.0**-decimals * (1 + 1e-9) + ABS_TOL


# ---------------------------------------------------------------------------------------------
# Dates


_MONTH_RE = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?<!\d)\d{4}(?!\d)")
_NUMERIC_DATE_RE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


@lru_cache(maxsize=4096)
def parse_date(text: str) -> dt.datetime | None:
    """The date (and time) a text names, or None; month first for ``01/05/2023`` (US order)."""
    text = _clean(text)
    if not _YEAR_RE.search(text) or len(text) > 40:
        return None
    if not (_MONTH_RE.search(text) or _NUMERIC_DATE_RE.match(text)):
        return None
    sentinel_a, sentinel_b = dt.datetime(1901, 2, 3), dt.datetime(1902, 3, 4)
    try:  # parse twice with different defaults: a field missing from the text shows as a difference
        a = date_parser.parse(text, default=sentinel_a, dayfirst=False)
        b = date_parser.parse(text, default=sentinel_b, dayfirst=False)
    except (ValueError, OverflowError):
        return None
    if (a.year, a.month, a.day) != (b.year, b.month, b.day):
        return None  # no day or no month given: not a full date
    return a.replace(tzinfo=None)


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").item()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return None


def dates_match(predicted: dt.datetime, gold: dt.datetime) -> bool:
    """Same day; and the same second when the gold has a time of day."""
    if gold.time() == dt.time(0, 0):
        return predicted.date() == gold.date()
    return predicted.replace(microsecond=0) == gold.replace(microsecond=0)


# ---------------------------------------------------------------------------------------------
# Gold values


def is_missing(value: Any) -> bool:
    """None, NaN, NaT, ``pd.NA``, an empty list, or a 'none' word."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, float | np.floating) and math.isnan(value):
        return True
    if isinstance(value, str):
        return is_none_word(value)
    if _is_list(value):
        return len(_as_list(value)) == 0
    return False


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset | np.ndarray) or type(value).__name__ == "Series"


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, np.ndarray) or type(value).__name__ == "Series":
        return list(value.tolist())
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return list(value)


def _scalar(value: Any) -> Any:
    """A numpy scalar as the Python value it holds."""
    if isinstance(value, np.generic) and not isinstance(value, np.datetime64):
        return value.item()
    return value


def matches_value(predicted: str, gold: Any, *, rel_tol: float = 1e-4) -> bool:
    """Does the text of one predicted item match one gold scalar? (No list handling.)"""
    gold = _scalar(gold)
    pred = _clean(predicted)
    if is_missing(gold):
        return is_none_word(pred)
    if not pred or is_none_word(pred):
        return False
    if isinstance(gold, bool):
        return parse_bool(pred) is gold
    gold_dt = _as_datetime(gold)
    if gold_dt is not None:
        pred_dt = parse_date(pred)
        return pred_dt is not None and dates_match(pred_dt, gold_dt)
    if isinstance(gold, int | float):
        p = parse_number(pred)
        g = ParsedNumber(float(gold), decimals=0)
        return p is not None and numbers_match(p, g, rel_tol=rel_tol, gold_is_text=False)
    return _matches_gold_text(pred, str(gold), rel_tol=rel_tol)


def _matches_gold_text(pred: str, gold: str, *, rel_tol: float) -> bool:
    """A gold given as text: read it as a bool, date or number when it is one, else compare text."""
    if normalize_answer(pred) == normalize_answer(gold):
        return True
    gold_bool = parse_bool(gold)
    if gold_bool is not None:
        return parse_bool(pred) is gold_bool
    gold_dt = parse_date(gold)
    if gold_dt is not None:
        pred_dt = parse_date(pred)
        return pred_dt is not None and dates_match(pred_dt, gold_dt)
    gold_num = parse_number(gold)
    if gold_num is not None and _units_compatible(pred, gold):
        pred_num = parse_number(pred)
        return pred_num is not None and numbers_match(pred_num, gold_num, rel_tol=rel_tol, gold_is_text=True)
    return False


# Words that may follow a number as its unit. A gold text like "7 Eleven" or "3 Musketeers" is a
# name, not a quantity: without this list "7" would match it.
KNOWN_UNITS = frozenset(
    """kg g mg lb lbs oz t ton tonne km m cm mm mi mile ft feet foot in inch yd yard l ml gal gallon
    s sec second min minute h hr hour day week month year yr c f k ° °c °f degree kph mph kmh km/h m/s
    w kw mw kwh v a mb gb tb kb usd eur gbp jpy inr dollar euro pound yen point pt goal run game win
    loss match unit item piece pcs people person passenger employee seat order visitor""".split()
)


def _unit(text: str) -> str | None:
    match = _NUMBER_RE.match(_clean(text))
    unit = match["unit"] if match else None
    return unit.lower().rstrip(".") if unit else None


def _singular(unit: str) -> str:
    return unit[:-1] if len(unit) > 2 and unit.endswith("s") else unit


def _units_compatible(pred: str, gold: str) -> bool:
    """A gold number's unit must be a real unit, and a predicted unit must be the same one."""
    gold_unit, pred_unit = _unit(gold), _unit(pred)
    if gold_unit is None:
        return True
    if gold_unit not in KNOWN_UNITS and _singular(gold_unit) not in KNOWN_UNITS:
        return False
    return pred_unit is None or _singular(pred_unit) == _singular(gold_unit)


# ---------------------------------------------------------------------------------------------
# Lists


_STRONG_SEP_RE = re.compile(r"\s*(?:;|\||\n)\s*")
# A comma, except one between a digit and exactly three digits (a thousands separator).
_COMMA_RE = re.compile(r"\s*(?:(?<!\d),|,(?!\d{3}(?!\d)))\s*")
_COMMA_AND_RE = re.compile(r"\s*(?:(?:(?<!\d),|,(?!\d{3}(?!\d)))\s*(?:and\s+|&\s+)?|\s+and\s+|\s+&\s+)\s*", re.I)
_BRACKETS = {"[": "]", "(": ")", "{": "}"}


def _strip_brackets(text: str) -> str:
    text = _clean(text)
    if len(text) >= 2 and _BRACKETS.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text


def _merge_years(items: list[str]) -> list[str]:
    """Glue a lone year back onto the item before it: ``"Jan 5", "2023"`` → ``"Jan 5, 2023"``."""
    merged: list[str] = []
    for item in items:
        if merged and re.fullmatch(r"\d{4}", item) and _MONTH_RE.search(merged[-1]) and not _YEAR_RE.search(merged[-1]):
            merged[-1] = f"{merged[-1]}, {item}"
        else:
            merged.append(item)
    return merged


def split_list(text: str) -> list[list[str]]:
    """The readings of a predicted list, most literal first (see the module docstring)."""
    body = _strip_brackets(text)
    readings: list[list[str]] = [[body]]
    if _STRONG_SEP_RE.search(body):
        readings.append(_STRONG_SEP_RE.split(body))
    else:
        readings.append(_merge_years(_COMMA_RE.split(body)))
        readings.append(_merge_years(_COMMA_AND_RE.split(body)))
    out: list[list[str]] = []
    for reading in readings:
        items = [_clean(i) for i in reading]
        items = [i for i in items if i]
        if items and items not in out:
            out.append(items)
    return out


def _cover(pred_items: Sequence[str], gold_items: Sequence[Any], rel_tol: float) -> tuple[int, int]:
    """How many predicted items match some gold item, and how many gold items some predicted one."""
    table = [[matches_value(p, g, rel_tol=rel_tol) for g in gold_items] for p in pred_items]
    pred_hit = sum(any(row) for row in table)
    gold_hit = sum(any(table[i][j] for i in range(len(pred_items))) for j in range(len(gold_items)))
    return pred_hit, gold_hit


def _list_readings(predicted: str) -> Iterable[list[str]]:
    if is_none_word(predicted):
        return []
    return [items for items in split_list(predicted) if len(items) <= MAX_ITEMS]


# ---------------------------------------------------------------------------------------------
# Public entry points


def verify_answer(predicted: str, gold: Any, *, rel_tol: float = 1e-4, order_matters: bool = False) -> bool:
    """True when ``predicted`` states the ``gold`` value (rules in the module docstring)."""
    predicted = _as_text(predicted)
    if _is_list(gold):
        gold_items = [_scalar(g) for g in _as_list(gold)]
        if not gold_items:
            return is_none_word(predicted)
        if len(gold_items) == 1 and matches_value(_strip_brackets(predicted), gold_items[0], rel_tol=rel_tol):
            return True
        for items in _list_readings(predicted):
            if order_matters:
                if len(items) == len(gold_items) and all(
                    matches_value(p, g, rel_tol=rel_tol) for p, g in zip(items, gold_items)
                ):
                    return True
            elif _cover(items, gold_items, rel_tol) == (len(items), len(gold_items)):
                return True
        return False
    if matches_value(predicted, gold, rel_tol=rel_tol):
        return True
    readings = split_list(predicted)
    return any(len(items) == 1 and matches_value(items[0], gold, rel_tol=rel_tol) for items in readings)


def answer_score(predicted: str, gold: Any, *, rel_tol: float = 1e-4, order_matters: bool = False) -> float:
    """1.0/0.0 by :func:`verify_answer`; partial F1 over items for an unordered list gold."""
    if verify_answer(predicted, gold, rel_tol=rel_tol, order_matters=order_matters):
        return 1.0
    if order_matters or not _is_list(gold) or not _as_list(gold):
        return 0.0
    gold_items = [_scalar(g) for g in _as_list(gold)]
    best = 0.0
    for items in _list_readings(_as_text(predicted)):
        pred_hit, gold_hit = _cover(items, gold_items, rel_tol)
        precision, recall = pred_hit / len(items), gold_hit / len(gold_items)
        if precision + recall:
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def _as_text(predicted: Any) -> str:
    """The prediction as text; a list (e.g. from an answer tool's JSON) joins with semicolons."""
    if isinstance(predicted, str):
        return predicted
    if _is_list(predicted):
        return "; ".join(str(_scalar(p)) for p in _as_list(predicted))
    if predicted is None:
        return ""
    return str(_scalar(predicted))
