import pytest

from phi1repro.synth import vocabulary
from phi1repro.synth.prompts import (
    ExercisePrompts,
    NameLedger,
    TextbookPrompts,
    part_indices,
    prompt_fields,
)


def textbooks(seed=0):
    return TextbookPrompts(vocabulary.TOPICS, vocabulary.AUDIENCES, vocabulary.STYLES, seed)


def ledger(seed=0, max_modifiers=1):
    return NameLedger(vocabulary.VERBS, vocabulary.MODIFIERS, vocabulary.NOUNS, seed, max_modifiers)


def test_textbook_prompts_are_seeded_and_never_repeat_within_a_thousand_draws():
    prompts = textbooks()
    texts = [prompts[i].text for i in range(1000)]
    assert len(set(texts)) == 1000
    assert texts == [textbooks()[i].text for i in range(1000)]
    assert texts != [textbooks(seed=1)[i].text for i in range(1000)]
    # every topic and audience turns up early, not only after thousands of draws
    assert {prompts[i].topic for i in range(1000)} == set(vocabulary.TOPICS)
    assert {prompts[i].audience for i in range(1000)} == set(vocabulary.AUDIENCES)


def test_textbook_prompt_states_its_constraints():
    prompt = textbooks()[7]
    assert prompt_fields(prompt.text) == {"Topic": prompt.topic, "Audience": prompt.audience, "Style": prompt.style}


def test_textbook_rounds_begin_once_every_combination_is_used():
    prompts = TextbookPrompts(("loops", "sets"), ("children",), ("a story",), seed=3)
    assert [prompts[i].round for i in range(5)] == [0, 0, 1, 1, 2]
    assert {prompts[0].topic, prompts[1].topic} == {"loops", "sets"}


@pytest.mark.parametrize("field", ["topics", "audiences", "styles"])
def test_textbook_lists_must_be_distinct_and_non_empty(field):
    lists = {"topics": ("a",), "audiences": ("b",), "styles": ("c",)}
    with pytest.raises(ValueError, match=field):
        TextbookPrompts(**{**lists, field: ()}, seed=0)
    with pytest.raises(ValueError, match=field):
        TextbookPrompts(**{**lists, field: ("x", "x")}, seed=0)


@pytest.mark.parametrize("max_modifiers", [0, 1])
def test_the_name_ledger_never_repeats_over_its_whole_space(max_modifiers):
    names = ledger(max_modifiers=max_modifiers)
    everything = [names[i] for i in range(names.size)]
    assert len(set(everything)) == names.size
    with pytest.raises(IndexError, match="beyond"):
        names[names.size]


def test_two_modifier_names_come_after_the_shorter_ones_and_stay_unique():
    one, two = ledger(max_modifiers=1), ledger(max_modifiers=2)
    assert [two[i] for i in range(1000)] == [one[i] for i in range(1000)]
    tail = [two[i] for i in range(one.size, one.size + 200_000)]
    assert all(name.count("_") == 3 for name in tail)
    assert len(set(tail)) == len(tail)
    assert all(not name.split("_")[1] == name.split("_")[2] for name in tail)


def test_names_are_identifiers_and_the_vocabulary_is_checked():
    names = ledger()
    assert all(names[i].isidentifier() for i in range(0, names.size, 97))
    with pytest.raises(ValueError, match="verbs"):
        NameLedger(("Sort",), (), ("items",), 0)
    with pytest.raises(ValueError, match="nouns"):
        NameLedger(("sort",), (), ("items", "items"), 0)


def test_parts_own_disjoint_indices_that_cover_everything():
    parts = 7
    owned = [set(part_indices(p, parts, 0, 50)) for p in range(parts)]
    assert set().union(*owned) == set(range(parts * 50))
    assert sum(map(len, owned)) == parts * 50
    # growing a part continues where it stopped
    assert list(part_indices(2, parts, 0, 10)) + list(part_indices(2, parts, 10, 20)) == list(part_indices(2, parts, 0, 20))
    with pytest.raises(ValueError):
        part_indices(7, parts, 0, 1)


def test_exercise_prompts_name_their_function_and_domain():
    prompts = ExercisePrompts(ledger(), vocabulary.DOMAINS, seed=0)
    fields = prompt_fields(prompts[5].text)
    assert fields == {"Function name": prompts[5].name, "Domain": prompts[5].domain}
    assert f"named `{prompts[5].name}`" in prompts[5].text
    assert len({prompts[i].domain for i in range(500)}) == len(vocabulary.DOMAINS)
