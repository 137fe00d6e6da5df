"""What an employee notices when asking learnbot: right lesson first, typos forgiven, honest abstention."""

from __future__ import annotations

import threading

import pytest

from content_index.search import (
    DEFAULT_THRESHOLD,
    Document,
    Filters,
    Hit,
    SearchIndex,
    analyze,
    make_synonyms,
    search,
)
from content_index.synonyms import BUILT_IN_SYNONYMS

LESSONS = [
    Document(
        id="pivot-tables",
        title="Build a pivot table in Google Sheets",
        summary="Summarise thousands of rows by category in two minutes.",
        body="Select your data, choose Insert > Pivot table, then drag fields into rows and values.",
        tags=("spreadsheets", "data analysis", "Productivity"),
    ),
    Document(
        id="sbi-feedback",
        title="Give feedback that lands: the SBI model",
        summary="Describe the situation, the behaviour and its impact so feedback is heard, not defended.",
        body="Start with the situation, name the behaviour you saw, then its impact on you or the team.",
        tags=("feedback", "communication", "People"),
        audience=("everyone",),
    ),
    Document(
        id="great-one-on-ones",
        title="Run a great 1:1 with your direct report",
        summary="A simple agenda for weekly one-on-ones that your report owns.",
        body="Let the report bring the topics; keep notes; end with commitments from both sides.",
        tags=("coaching", "Leadership"),
        audience=("manager",),
        pillar="Leadership",
    ),
    Document(
        id="pr-description",
        title="Write a pull request description reviewers love",
        summary="Explain the why, the what and how to test it, so code review goes faster.",
        body="Link the ticket, describe the change, list how you tested it and what reviewers should check.",
        tags=("code review", "git", "Craft"),
        audience=("engineer",),
        pillar="Craft",
    ),
    Document(
        id="gmail-filters",
        title="Tame your inbox with Gmail filters",
        summary="Label, archive or forward email automatically so only what matters reaches you.",
        body="Open search options, describe the messages, then create a filter that labels or archives them.",
        tags=("email", "Productivity"),
    ),
    Document(
        id="two-factor",
        title="Turn on two-factor authentication for your work account",
        summary="Protect your account with a second step at sign-in.",
        body="Open your security settings, choose two-step verification and scan the code with your phone.",
        tags=("security", "Security"),
        pillar="Security",
    ),
    Document(
        id="modern-cpp",
        title="Modern C++ for Python developers",
        summary="Smart pointers, RAII and templates explained for people who know Python.",
        body="Prefer unique_ptr over raw pointers and let destructors release resources.",
        tags=("c++", "Craft"),
        pillar="Craft",
    ),
    Document(
        id="python-data",
        title="Python for data analysis",
        summary="Load a CSV with pandas and summarise it in a few lines.",
        body="Use read_csv, groupby and describe to explore a data set quickly.",
        tags=("python", "data analysis", "Craft"),
        pillar="Craft",
    ),
]


@pytest.fixture
def index() -> SearchIndex:
    return SearchIndex(LESSONS)


def top_id(hits: list[Hit]) -> str | None:
    return hits[0].id if hits else None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How can I summarize my spreadsheet rows by category?", "pivot-tables"),
        ("what's the best way to give a colleague feedback on their behaviour?", "sbi-feedback"),
        ("is there a way to automatically archive emails in gmail?", "gmail-filters"),
        ("can you tell me how to protect my account when I sign in?", "two-factor"),
        ("how do I describe my changes so code reviewers are happy", "pr-description"),
    ],
)
def test_paraphrased_question_ranks_the_right_lesson_first(
    index: SearchIndex, question: str, expected: str
) -> None:
    assert top_id(search(index, question)) == expected


def test_close_question_is_answered_confidently(index: SearchIndex) -> None:
    hits = search(index, "How do I build a pivot table in Google Sheets?")
    assert hits[0].id == "pivot-tables"
    assert hits[0].confidence >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("pivto table", "pivot-tables"),
        ("how do I give feedbak", "sbi-feedback"),
        ("gmial filtres", "gmail-filters"),
    ],
)
def test_typos_still_find_the_lesson(index: SearchIndex, question: str, expected: str) -> None:
    assert top_id(search(index, question)) == expected


def test_a_typo_counts_a_little_less_than_the_exact_word(index: SearchIndex) -> None:
    exact = search(index, "pivot table")[0]
    typo = search(index, "pivto table")[0]
    assert typo.id == exact.id
    assert typo.confidence < exact.confidence
    assert typo.score < exact.score


def test_programming_names_and_1_1_are_kept_as_words(index: SearchIndex) -> None:
    assert analyze("C++ and C# in O365 before our 1:1") == ["c++", "c#", "o365", "1:1"]
    assert top_id(search(index, "c++ tips")) == "modern-cpp"
    assert top_id(search(index, "python tips")) == "python-data"


def test_manager_only_lesson_is_hidden_from_an_engineer(index: SearchIndex) -> None:
    question = "how should I prepare a 1:1 with my direct report?"
    as_engineer = search(index, question, filters=Filters(audience="engineer"))
    as_manager = search(index, question, filters=Filters(audience="manager"))
    assert "great-one-on-ones" not in [hit.id for hit in as_engineer]
    assert top_id(as_manager) == "great-one-on-ones"


def test_everyone_and_untargeted_lessons_are_visible_to_any_role(index: SearchIndex) -> None:
    visible = {hit.id for hit in search(index, "feedback pivot table", filters=Filters(audience="sales"))}
    assert {"sbi-feedback", "pivot-tables"} <= visible


def test_engineer_lesson_is_hidden_from_a_manager(index: SearchIndex) -> None:
    hits = search(index, "pull request description", filters=Filters(audience="manager"))
    assert "pr-description" not in [hit.id for hit in hits]


def test_no_audience_filter_shows_everything(index: SearchIndex) -> None:
    assert top_id(search(index, "1:1 with my direct report")) == "great-one-on-ones"


def test_pillar_filter_keeps_only_that_pillar(index: SearchIndex) -> None:
    hits = search(index, "data analysis python c++ code review", filters=Filters(pillar="Craft"))
    assert hits
    assert {hit.id for hit in hits} <= {"pr-description", "modern-cpp", "python-data"}
    assert search(index, "pivot table", filters=Filters(pillar="Security")) == []


@pytest.mark.parametrize(
    "question",
    ["how do I do this please?", "can you help me with that", "is there a way to", "qwxz blorptastic zzyzx"],
)
def test_stopwords_or_nonsense_get_no_confident_answer(index: SearchIndex, question: str) -> None:
    hits = search(index, question)
    assert not hits or hits[0].confidence < DEFAULT_THRESHOLD


def test_stopword_only_question_returns_nothing(index: SearchIndex) -> None:
    assert search(index, "What's the best way to do it, please?") == []
    assert search(index, "") == []


def test_an_unknown_word_lowers_confidence(index: SearchIndex) -> None:
    plain = search(index, "gmail filters")[0]
    with_unknown = search(index, "gmail filters for zorblax")[0]
    assert with_unknown.id == plain.id == "gmail-filters"
    assert with_unknown.confidence < plain.confidence


def test_hits_are_ordered_bounded_and_confidences_in_range(index: SearchIndex) -> None:
    hits = search(index, "data analysis with python or spreadsheets", k=3)
    assert len(hits) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0.0 <= h.confidence <= 1.0 for h in hits)
    assert search(index, "pivot", k=0) == []


def test_add_replace_and_remove_change_results_without_rebuilding() -> None:
    index = SearchIndex(LESSONS)
    assert search(index, "negotiate a salary raise") == []

    index.add(Document(id="negotiation", title="Negotiate your salary raise with data"))
    assert len(index) == len(LESSONS) + 1
    assert top_id(search(index, "negotiate a salary raise")) == "negotiation"

    index.add(Document(id="negotiation", title="Prepare for your performance review"))
    assert len(index) == len(LESSONS) + 1
    assert search(index, "negotiate a salary raise") == []
    assert top_id(search(index, "performance review preparation")) == "negotiation"

    index.remove("negotiation")
    assert len(index) == len(LESSONS)
    assert "negotiation" not in [hit.id for hit in search(index, "performance review preparation")]
    index.remove("does-not-exist")  # ignored


def test_incremental_index_ranks_like_a_fresh_one() -> None:
    incremental = SearchIndex(LESSONS[:3])
    for doc in LESSONS[3:]:
        incremental.add(doc)
    incremental.add(Document(id="temp", title="Pivot tables and feedback"))
    incremental.remove("temp")
    fresh = SearchIndex(LESSONS)
    for question in ["pivto table", "feedback on behaviour", "code review git"]:
        assert search(incremental, question) == search(fresh, question)


def test_typo_correction_follows_new_vocabulary() -> None:
    index = SearchIndex(LESSONS)
    assert top_id(search(index, "kubernetis")) is None
    index.add(Document(id="k8s", title="Kubernetes basics for developers"))
    assert top_id(search(index, "kubernetis")) == "k8s"


def test_searching_while_content_is_reindexed_is_safe() -> None:
    index = SearchIndex(LESSONS)
    errors: list[Exception] = []

    def reindex() -> None:
        for i in range(200):
            index.add(Document(id=f"tmp-{i % 7}", title=f"Pivot table tip number {i}", body="rows values"))
            index.remove(f"tmp-{(i + 3) % 7}")

    def ask() -> None:
        try:
            for _ in range(200):
                search(index, "pivto table rows", filters=Filters(audience="engineer"))
        except Exception as error:  # any failure inside the thread must fail the test
            errors.append(error)

    threads = [threading.Thread(target=reindex)] + [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert top_id(search(index, "pivot table in google sheets")) == "pivot-tables"


LEAVE_LESSONS = [
    *LESSONS,
    Document(
        id="book-vacation",
        title="Book your vacation days in the HR portal",
        summary="Ask for days away, see your balance and cancel a booking.",
        body="Open the portal, choose the dates and your manager approves the request.",
    ),
    Document(
        id="portal-tour",
        title="A tour of the HR portal",
        summary="Payslips, benefits and your personal details in one place.",
        body="The portal shows your payslips and lets you update your bank details.",
    ),
]


@pytest.mark.parametrize(
    "question", ["how do I book PTO", "how many days of annual leave can I take", "request time off"]
)
def test_a_synonym_or_abbreviation_finds_the_lesson(question: str) -> None:
    hits = search(SearchIndex(LEAVE_LESSONS), question)
    assert top_id(hits) == "book-vacation"
    assert hits[0].confidence >= DEFAULT_THRESHOLD


def test_without_synonyms_the_abbreviation_finds_nothing() -> None:
    index = SearchIndex(LEAVE_LESSONS, synonyms=make_synonyms(()))
    assert search(index, "PTO please") == []
    assert top_id(search(SearchIndex(LEAVE_LESSONS), "PTO please")) == "book-vacation"


def test_a_synonym_counts_a_little_less_than_the_word_itself() -> None:
    index = SearchIndex(LEAVE_LESSONS)
    exact = search(index, "book vacation")[0]
    synonym = search(index, "book pto")[0]
    assert exact.id == synonym.id == "book-vacation"
    assert synonym.score < exact.score


def test_company_synonyms_from_app_yaml_extend_the_built_in_list() -> None:
    lessons = [Document(id="okta", title="Sign in to Okta from a new laptop")]
    plain = SearchIndex(lessons)
    assert search(plain, "how do I log in to the launchpad") == []
    groups = [*BUILT_IN_SYNONYMS, ("launchpad", "okta")]
    assert (
        top_id(search(SearchIndex(lessons, synonyms=make_synonyms(groups)), "log in to the launchpad"))
        == "okta"
    )


def test_stopword_abbreviations_never_trigger_a_synonym() -> None:
    index = SearchIndex(LESSONS, synonyms=make_synonyms([("it", "helpdesk"), ("helpdesk", "gmail")]))
    assert top_id(search(index, "is it possible to filter gmail")) == "gmail-filters"
    assert search(index, "is it on") == []


def test_two_factor_written_as_2fa_or_mfa_finds_the_lesson(index: SearchIndex) -> None:
    assert top_id(search(index, "set up 2FA on my work account")) == "two-factor"
    assert top_id(search(index, "MFA for my account")) == "two-factor"


def test_words_side_by_side_rank_above_the_same_words_scattered() -> None:
    lessons = [
        Document(
            id="scattered", title="Table manners at the client dinner", body="Pivot the talk to the client."
        ),
        Document(id="phrase", title="Client dinner: the pivot table of the evening", body="Table talk."),
    ]
    assert top_id(search(SearchIndex(lessons), "pivot table")) == "phrase"


def test_a_misspelt_synonym_the_library_never_uses_still_finds_its_group() -> None:
    lessons = [
        Document(id="appraisal", title="Prepare for your appraisal", body="Gather examples of your work."),
        Document(id="laptop", title="Set up your new laptop", body="Sign in and install updates."),
    ]
    index = SearchIndex(lessons)
    assert top_id(search(index, "prep for my performance review")) == "appraisal"
    assert top_id(search(index, "prep for my perfomance reveiw")) == "appraisal"
    assert search(SearchIndex(lessons, synonyms=make_synonyms(())), "perfomance reveiw") == []


def test_only_misspellings_are_corrected_to_synonym_words_not_other_real_words() -> None:
    index = SearchIndex(LESSONS)
    # What the semantic tier reads besides the question: the corrected spelling finds its group.
    assert index.spelled_words("share my callendar") == ["share", "my", "calendar"]
    # Another form of a synonym word, or a four-letter word one edit from one, is left alone.
    assert index.spelled_words("manage the disk") == ["manage", "the", "disk"]
