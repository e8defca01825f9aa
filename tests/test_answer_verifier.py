"""The table-QA answer verifier: every rule with cases that must match and cases that must not."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from turngym.rewards.answer import (
    answer_score,
    normalize_answer,
    parse_date,
    parse_number,
    split_list,
    verify_answer,
)

JAN5 = dt.date(2023, 1, 5)


def _check(predicted, gold, expected, **kw):
    assert verify_answer(predicted, gold, **kw) is expected, (predicted, gold, kw)


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ("42", 42, True),
        ("42.0", 42, True),
        ("42.00001", 42, True),  # inside the default relative tolerance 1e-4
        ("42.1", 42, False),
        ("41", 42, False),
        ("-4", -4, True),
        ("−4", -4, True),  # Unicode minus
        ("4", -4, False),
        ("0", 0.0, True),
        ("0.001", 0.0, False),
        ("1e3", 1000, True),
        ("forty-two", 42, False),
        ("42 or 43", 42, False),
        (" 42. ", 42, True),
        ("42", np.int64(42), True),
        ("42.5", np.float32(42.5), True),
    ],
)
def test_numbers_with_relative_tolerance(predicted, gold, expected):
    _check(predicted, gold, expected)


def test_tolerance_is_a_parameter():
    _check("101", 100, False)
    _check("101", 100, True, rel_tol=0.02)


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ("1,234.5", 1234.5, True),
        ("1,234,567", 1234567, True),
        ("1234567", 1234567, True),
        ("1,234.5", 1234, False),
        ("12,34", 1234, False),  # not a thousands grouping
    ],
)
def test_thousands_separators(predicted, gold, expected):
    _check(predicted, gold, expected)


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ("12.5%", 0.125, True),  # a percentage may stand for its hundredth...
        ("12.5%", 12.5, True),  # ...or for itself
        ("12.5 percent", 0.125, True),
        ("12.5", 12.5, True),
        ("0.125", 12.5, False),  # a bare number is never rescaled
        ("12.5", 0.125, False),
        ("13%", 0.125, False),
        ("12.5", "12.5%", True),  # gold text with a percent sign: the same rule, mirrored
        ("0.125", "12.5%", True),
        ("5", "12.5%", False),
    ],
)
def test_percentages(predicted, gold, expected):
    _check(predicted, gold, expected)


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ("$1,200", 1200, True),
        ("$1,200.50", 1200.5, True),
        ("USD 1200", 1200, True),
        ("€15", 15, True),
        ("-$5", -5, True),
        ("$1,300", 1200, False),
        ("12 kg", 12, True),
        ("3.5 km", 3.5, True),
        ("80 km/h", 80, True),
        ("21 °C", 21, True),
        ("1.5 million", 1_500_000, True),
        ("1.5 million", 1.5, False),
        ("3.6 km", 3.5, False),
        ("12 kg", "12 kg", True),
        ("12", "12 kg", True),
        ("13", "12 kg", False),
    ],
)
def test_currency_and_units_are_stripped(predicted, gold, expected):
    _check(predicted, gold, expected)


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ("33.33", 100 / 3, True),  # two or more decimals: a rounding of the gold counts
        ("33.333", 100 / 3, True),
        ("33.3", 100 / 3, False),  # one decimal is too coarse to claim rounding
        ("33", 100 / 3, False),
        ("33.34", 100 / 3, False),
        ("33.3333", "33.33", True),  # a benchmark's rounded gold text
        ("12.46", "12.5", True),
        ("12.4", "12.5", False),
        ("12.46", 12.5, False),  # a gold number is exact: no rounding on its side
    ],
)
def test_rounding(predicted, gold, expected):
    _check(predicted, gold, expected)


@pytest.mark.parametrize(
    "predicted",
    [
        "2023-01-05",
        "2023/01/05",
        "Jan 5, 2023",
        "January 5, 2023",
        "January 5th, 2023",
        "5 January 2023",
        "5 Jan 2023",
        "05-Jan-2023",
        "01/05/2023",  # US order: month first
        "2023-01-05 00:00:00",
    ],
)
def test_dates_in_common_formats(predicted):
    _check(predicted, JAN5, True)
    _check(predicted, dt.datetime(2023, 1, 5), True)
    _check(predicted, pd.Timestamp("2023-01-05"), True)
    _check(predicted, np.datetime64("2023-01-05"), True)
    _check(predicted, "2023-01-05", True)


@pytest.mark.parametrize(
    "predicted",
    ["2023-01-06", "05/01/2023", "Jan 2023", "2023", "January 5", "Feb 5, 2023", "5", "yesterday", ""],
)
def test_wrong_or_partial_dates_do_not_match(predicted):
    _check(predicted, JAN5, False)


def test_a_gold_time_of_day_must_match():
    gold = dt.datetime(2023, 1, 5, 14, 30)
    _check("2023-01-05 14:30", gold, True)
    _check("2023-01-05 14:31", gold, False)
    _check("2023-01-05", gold, False)


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ("yes", True, True),
        ("Yes.", True, True),
        ("TRUE", True, True),
        ("no", False, True),
        ("False", False, True),
        ("no", True, False),
        ("yes", False, False),
        ("1", True, False),  # booleans never match numbers
        ("maybe", True, False),
        ("Yes", "yes", True),
        ("true", "Yes", True),
        ("no", "yes", False),
        ("yes", np.bool_(True), True),
    ],
)
def test_booleans(predicted, gold, expected):
    _check(predicted, gold, expected)


def test_a_boolean_gold_is_not_a_number():
    _check("True", 1, False)


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ("the lakers", "Lakers", True),
        ("  LAKERS!  ", "Lakers", True),
        ("'Lakers'", "Lakers", True),
        ("An apple", "apple", True),
        ("New   York", "new york", True),
        ("Celtics", "Lakers", False),
        ("Los Angeles Lakers", "Lakers", False),
        ("théâtre", "Théâtre", True),
        ("O'Neil", "ONeil", True),
    ],
)
def test_case_whitespace_punctuation_articles(predicted, gold, expected):
    _check(predicted, gold, expected)


def test_normalize_answer():
    assert normalize_answer("  The  Quick, Brown fox!! ") == "quick brown fox"


@pytest.mark.parametrize(
    "predicted", ["a, b, c", "c, b, a", "b; a; c", "a | b | c", "a, b and c", "a, b, and c", "[a, b, c]", "a\nb\nc"]
)
def test_lists_as_sets_when_order_does_not_matter(predicted):
    _check(predicted, ["a", "b", "c"], True)
    _check(predicted, ("a", "b", "c"), True)
    _check(predicted, {"a", "b", "c"}, True)


@pytest.mark.parametrize("predicted", ["a, b", "a, b, c, d", "a, b, d", "abc", ""])
def test_lists_with_missing_or_extra_items_fail(predicted):
    _check(predicted, ["a", "b", "c"], False)


def test_repeats_do_not_matter_in_a_set():
    _check("a, a, b", ["a", "b"], True)


def test_ordered_lists():
    gold = ["Ann", "Bob", "Cy"]
    _check("Ann, Bob, Cy", gold, True, order_matters=True)
    _check("ann; bob; cy", gold, True, order_matters=True)
    _check("Bob, Ann, Cy", gold, False, order_matters=True)
    _check("Ann, Bob", gold, False, order_matters=True)
    _check("Bob, Ann, Cy", gold, True)


def test_list_items_use_the_scalar_rules():
    _check("1,234, 5,678", [1234, 5678], True)
    _check("$10; 20 kg", [20, 10], True)
    _check("10, 20", np.array([10, 20]), True)
    _check("10, 20", pd.Series([10, 20]), True)
    _check("Jan 5, 2023, Feb 6, 2023", [JAN5, dt.date(2023, 2, 6)], True)
    _check("10, 21", [10, 20], False)


def test_an_item_with_a_comma_can_still_be_one_item():
    _check("Smith, John", "Smith, John", True)
    _check("Smith, John; Doe, Jane", ["Smith, John", "Doe, Jane"], True)
    _check("Smith, John", ["Smith, John"], True)
    _check("Smith, John", ["Smith", "John"], True)


def test_a_scalar_gold_accepts_a_one_item_list_only():
    _check("[12]", 12, True)
    _check("12, 13", 12, False)
    _check("[12, 13]", 12, False)


def test_the_prediction_may_already_be_a_list():
    _check(["b", "a"], ["a", "b"], True)
    _check(12, 12, True)
    _check(None, 12, False)


@pytest.mark.parametrize("gold", [None, float("nan"), np.nan, pd.NA, pd.NaT, [], "N/A", "none"])
@pytest.mark.parametrize(
    ("predicted", "expected"),
    [("None", True), ("n/a", True), ("NULL", True), ("nan", True), ("0", False), ("", False), ("nobody", False)],
)
def test_missing_values(predicted, gold, expected):
    _check(predicted, gold, expected)


def test_a_none_word_is_not_a_value():
    _check("none", 0, False)
    _check("n/a", "Lakers", False)
    _check("none", ["a"], False)


def test_empty_prediction_matches_nothing():
    for gold in (0, "", "a", True, JAN5, ["a"]):
        _check("", gold, False)


def test_answer_score_gives_list_f1():
    gold = ["a", "b", "c", "d"]
    assert answer_score("a, b, c, d", gold) == 1.0
    assert answer_score("a, b", gold) == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert answer_score("a, b, x, y", gold) == pytest.approx(0.5)
    assert answer_score("x", gold) == 0.0
    assert answer_score("a, b", gold, order_matters=True) == 0.0
    assert answer_score("42", 42) == 1.0 and answer_score("41", 42) == 0.0


def test_parsers_directly():
    assert parse_number("$1,200.50").value == 1200.5
    assert parse_number("12.5%").percent and parse_number("12.5%").decimals == 1
    assert parse_number("twelve") is None and parse_number("12 34") is None and parse_number("") is None
    assert parse_date("Jan 5, 2023") == dt.datetime(2023, 1, 5)
    assert parse_date("2023") is None and parse_date("12 kg") is None
    assert ["a", "b", "c"] in split_list("a, b and c")
    assert split_list("1,234") == [["1,234"]]


def test_a_flood_of_items_matches_nothing():
    flood = ", ".join(["a", "b"] * 600)
    assert not verify_answer(flood, ["a", "b"])
    assert verify_answer(", ".join(["a", "b"] * 20), ["a", "b"])


@pytest.mark.parametrize(
    "predicted,gold,expected",
    [
        ("7", "7 Eleven", False),  # a name that starts with a number is not a quantity
        ("7 Up", "7 Eleven", False),
        ("7 Eleven", "7 Eleven", True),
        ("12 km", "12 kg", False),  # a stated unit must be the gold's unit
        ("12", "12 kg", True),
        ("12 kgs", "12 kg", True),
    ],
)
def test_units_must_be_real_units_and_agree(predicted, gold, expected):
    assert verify_answer(predicted, gold) is expected
