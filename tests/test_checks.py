"""Each rule check on small texts written for the test."""

from __future__ import annotations

from summarize.models import Article
from summarize.support.checks import (
    Evidence,
    check_dates,
    check_entities,
    check_extrinsic,
    check_negation,
    check_numbers,
    check_quotes,
    run_checks,
)
from summarize.text.values import dates, entities, quantities

SOURCE = (
    "The council approved a budget of $5 million on Wednesday, March 3. "
    "About 1,200 residents attended, and two members voted against it. "
    'Mayor Anna Berg said the plan "will not raise taxes for families". '
    "The hospital did not close."
)
EV = Evidence(SOURCE)


def errors(findings):
    return [f for f in findings if f.severity == "error"]


def test_quantities_normalise_forms():
    values = {q.value for q in quantities("$5m, 1200 people, two ships, 5 per cent, 3rd")}
    assert values == {5e6, 1200.0, 2.0, 5.0, 3.0}
    assert {q.kind for q in quantities("12.5% and £3bn in 2021")} == {"percent", "money", "year"}


def test_numbers_match_across_forms():
    claim = "A $5m budget was approved; 1200 residents came and 2 members voted no."
    assert errors(check_numbers(claim, EV, EV)) == []


def test_numbers_changed_value_is_an_error():
    found = errors(check_numbers("About 1,500 residents attended.", EV, EV))
    assert len(found) == 1 and "1,500" in found[0].message


def test_number_in_sources_but_not_in_support_is_a_warning():
    support = Evidence("About 1,200 residents attended.")
    found = check_numbers("The budget was $5 million.", support, EV)
    assert [f.severity for f in found] == ["warning"]


def test_dates_and_weekdays():
    assert dates("On Wednesday, March 3, he may go; Sept. 4") == ["Wednesday", "March", "September"]
    assert errors(check_dates("The vote was on Wednesday in March.", EV, EV)) == []
    found = errors(check_dates("The vote was on Thursday.", EV, EV))
    assert found and "'Thursday' is in no source" in found[0].message


def test_entities_missing_place_is_named():
    assert "Mayor Anna Berg" in entities("Officials said Mayor Anna Berg spoke in Seoul.")
    found = errors(check_entities("The plan was approved by Mayor Anna Berg in Seoul.", EV, EV))
    assert [f.items for f in found] == [["Seoul"]]
    assert "'Seoul' is not in any source" in found[0].message


def test_entities_skip_lowercased_text():
    assert entities("the mayor of seoul said so .") == []


def test_quotes_verbatim_modulo_style():
    ok = "Berg said the plan “will not raise taxes for families.”"
    assert check_quotes(ok, EV, EV) == []
    bad = 'Berg said the plan "will never raise taxes".'
    found = check_quotes(bad, EV, EV)
    assert found and found[0].check == "quote" and found[0].severity == "error"


def test_negation_flip_is_an_error():
    support = Evidence("The hospital did not close.")
    found = check_negation("The hospital closed.", support)
    assert found and found[0].severity == "error"
    assert check_negation("The hospital did not close.", support) == []
    found = check_negation("The council refused the budget.", Evidence("The council approved it."))
    assert found and found[0].check == "negation"


def test_extrinsic_words_are_listed():
    found = check_extrinsic("The council approved a controversial stadium budget.", EV, EV)
    novel = next(f for f in found if f.severity == "error")
    assert novel.items == ["controversial", "stadium"]
    assert "'stadium'" in novel.message


def test_run_checks_ignores_debris():
    text = SOURCE + "\nRelated: Stadium plan sparks protest in Seoul"
    article = Article(id="a", text=text, debris=[(len(SOURCE) + 1, len(text))])
    support = [article.span(0, 66)]
    findings = run_checks("The stadium plan sparked protest in Seoul.", support, [article])
    assert any(
        f.check == "entity" and f.items == ["Seoul"] and f.severity == "error" for f in findings
    )
