"""The LMS catalogue CSV source: real CSV files in tmp_path, read the way an admin would export them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from content_index.sources.csv_catalogue import read_csv_catalogue
from content_index.sources.lms_packages import read_lms_packages

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

LMS_COLUMNS = {
    "id": "Course ID",
    "title": "Course Title",
    "summary": "Short Description",
    "skills": "Competencies",
    "pillar": "Strategic Pillar",
    "impact": "Business Impact",
    "audience": "Target Audience",
    "duration_minutes": "Duration (min)",
    "url": "Launch URL",
    "reviewed": "Last Reviewed",
}

LMS_HEADER = (
    "Course ID,Course Title,Short Description,Competencies,Strategic Pillar,Business Impact,"
    "Target Audience,Duration (min),Launch URL,Last Reviewed"
)


def write(tmp_path: Path, text: str, name: str = "catalogue.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


def test_rows_become_courses_through_the_column_mapping(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        LMS_HEADER + "\n"
        'C-101,Excel for Analysts (4h),"Pivot tables, XLOOKUP and Power Query.",Excel;Data analysis,'
        "Efficiency,Faster reporting|Fewer errors,Finance;Sales,240,https://lms.example.com/c/101,2026-02-10\n"
        "C-102,GDPR Essentials,What counts as personal data.,Privacy,customer-trust,,everyone,45,,\n",
    )

    result = read_csv_catalogue(path, source="lms", columns=LMS_COLUMNS)

    assert result.problems == []
    excel, gdpr = result.items
    assert excel.id == "c-101"
    assert excel.title == "Excel for Analysts (4h)"
    assert excel.kind == "course"
    assert excel.source == "lms"
    assert excel.summary == "Pivot tables, XLOOKUP and Power Query."
    assert excel.skills == ["Excel", "Data analysis"]
    assert excel.pillar == "efficiency"
    assert excel.impact == ["Faster reporting", "Fewer errors"]
    assert excel.audience == ["finance", "sales"]
    assert excel.duration_minutes == 240
    assert excel.url == "https://lms.example.com/c/101"
    assert excel.reviewed == dt.date(2026, 2, 10)
    assert excel.location == "catalogue.csv:2"
    assert (gdpr.id, gdpr.title, gdpr.url, gdpr.reviewed, gdpr.impact) == (
        "c-102",
        "GDPR Essentials",
        None,
        None,
        [],
    )


def test_unmapped_fields_use_same_named_headers_case_insensitively(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "TITLE,Summary,Skills,duration_minutes,Description,Unrelated\n"
        "Leading Hybrid Teams,Rituals for split teams.,Leadership;Remote work,120,Long text about teams.,x\n",
    )

    result = read_csv_catalogue(path, source="lms")

    assert result.problems == []
    [item] = result.items
    assert item.id == "leading-hybrid-teams"  # no id column: slug of the title
    assert item.title == "Leading Hybrid Teams"
    assert item.summary == "Rituals for split teams."
    assert item.body == "Long text about teams."
    assert item.skills == ["Leadership", "Remote work"]
    assert item.duration_minutes == 120


def test_mapping_merges_with_defaults_and_maps_body(tmp_path: Path) -> None:
    path = write(
        tmp_path, "Name,Overview,url\nCoaching Conversations,Use the GROW model.,/courses/coaching\n"
    )

    result = read_csv_catalogue(path, source="lms", columns={"title": "name", "description": "Overview"})

    assert result.problems == []
    [item] = result.items
    assert (item.title, item.body, item.url) == (
        "Coaching Conversations",
        "Use the GROW model.",
        "/courses/coaching",
    )


def test_semicolon_delimited_file_with_bom(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Course Title;Short Description;Competencies\r\n"
        'Kundenservice, aber richtig;Gespräche führen, Beschwerden lösen.;"Empathie;Zuhören"\r\n',
        encoding="utf-8-sig",
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    result = read_csv_catalogue(
        path,
        source="lms",
        columns={"title": "Course Title", "summary": "Short Description", "skills": "Competencies"},
    )

    assert result.problems == []
    [item] = result.items
    assert item.title == "Kundenservice, aber richtig"
    assert item.summary == "Gespräche führen, Beschwerden lösen."
    assert item.skills == ["Empathie", "Zuhören"]
    assert item.id == "kundenservice-aber-richtig"


def test_tab_delimited_file(tmp_path: Path) -> None:
    path = write(tmp_path, "title\tskills\tpillar\nLean Basics\tLean, Kaizen\tEfficiency\n")

    result = read_csv_catalogue(path, source="lms", list_separator=",")

    assert result.problems == []
    [item] = result.items
    assert (item.title, item.skills, item.pillar) == ("Lean Basics", ["Lean", "Kaizen"], "efficiency")


def test_bad_rows_are_reported_with_their_line_and_other_rows_still_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "title,duration_minutes,reviewed,url\n"
        "Customer Service Excellence,90,2026-01-22,\n"  # line 2
        ",30,,\n"  # line 3: no title
        "Secure Coding,ninety,,\n"  # line 4: bad duration
        '"Budgeting ""for"" Managers",60,,"https://lms.example.com/b\n'  # lines 5-6: quoted value spans lines
        'udget"\n'
        "Consultative Selling,150,31/12/2025,\n"  # line 7: bad date
        "\n"  # line 8: blank lines are skipped
        "Lean Process Improvement,120,,ftp://files.example.com/lean\n"  # line 9: bad url
        "Writing Support Articles,60,,/courses/articles\n",  # line 10
    )

    result = read_csv_catalogue(path, source="lms")

    assert [item.title for item in result.items] == [
        "Customer Service Excellence",
        'Budgeting "for" Managers',
        "Writing Support Articles",
    ]
    assert [item.location for item in result.items] == [
        "catalogue.csv:2",
        "catalogue.csv:5",
        "catalogue.csv:10",
    ]
    assert [(p.line, p.path) for p in result.problems] == [(3, "catalogue.csv")] + [
        (line, "catalogue.csv") for line in (4, 7, 9)
    ]
    messages = [p.message for p in result.problems]
    assert "title" in messages[0]
    assert "ninety" in messages[1]
    assert "31/12/2025" in messages[2]
    assert "ftp://" in messages[3]
    assert str(result.problems[0]) == f"catalogue.csv:3: {messages[0]}"


def test_a_mapped_column_missing_from_the_header_is_one_problem_and_no_items(tmp_path: Path) -> None:
    path = write(tmp_path, "Course Title,Duration\nGDPR Essentials,45\n")

    result = read_csv_catalogue(
        path, source="lms", columns={"title": "Course Title", "duration_minutes": "Duration (min)"}
    )

    assert result.items == []
    [problem] = result.problems
    assert problem.path == "catalogue.csv"
    assert "'Duration (min)'" in problem.message
    assert "duration_minutes" in problem.message
    assert "'Course Title', 'Duration'" in problem.message


def test_no_title_column_is_one_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "Course Name,Duration\nGDPR Essentials,45\n")

    result = read_csv_catalogue(path, source="lms")

    assert result.items == []
    [problem] = result.problems
    assert "title" in problem.message


def test_unknown_field_in_mapping_is_one_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "Course Title\nGDPR Essentials\n")

    result = read_csv_catalogue(
        path, source="lms", columns={"title": "Course Title", "skils": "Course Title"}
    )

    assert result.items == []
    [problem] = result.problems
    assert "skils" in problem.message


def test_duplicate_id_is_reported_on_the_later_row_naming_the_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id,title\nGDPR-1,GDPR Essentials\nEXCEL-1,Excel for Analysts\ngdpr-1,GDPR Essentials (old)\n",
    )

    result = read_csv_catalogue(path, source="lms")

    assert [item.title for item in result.items] == ["GDPR Essentials", "Excel for Analysts"]
    [problem] = result.problems
    assert problem.line == 4
    assert "gdpr-1" in problem.message
    assert "line 2" in problem.message


def test_row_with_more_values_than_headers_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "title,summary\nLean Basics,Remove waste, fast\nGDPR Essentials,Privacy\n")

    result = read_csv_catalogue(path, source="lms")

    assert [item.title for item in result.items] == ["GDPR Essentials"]
    [problem] = result.problems
    assert problem.line == 2
    assert "quotes" in problem.message


def test_trailing_empty_cells_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "title,summary\nLean Basics,Remove waste,,\nGDPR Essentials\n")

    result = read_csv_catalogue(path, source="lms")

    assert result.problems == []
    assert [(i.title, i.summary) for i in result.items] == [
        ("Lean Basics", "Remove waste"),
        ("GDPR Essentials", ""),
    ]


def test_an_unclosed_quote_is_reported_and_the_rows_before_it_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "title,summary\n"
        "Lean Basics,Remove waste\n"
        'GDPR Essentials,"Privacy basics\n'  # line 3: the quote is never closed
        "Excel for Analysts,Pivots\n",
    )

    result = read_csv_catalogue(path, source="lms")

    assert [item.title for item in result.items] == ["Lean Basics"]
    [problem] = result.problems
    assert problem.line == 3
    assert "quote" in problem.message


def test_empty_missing_binary_and_non_utf8_files_are_one_problem_each(tmp_path: Path) -> None:
    cases = {
        "empty.csv": b"",
        "blank.csv": b"\n\n  \n",
        "binary.csv": b"PK\x03\x04\x00\x00\x00binary\x00stuff",
        "latin1.csv": "title\nKundenservice für alle\n".encode("latin-1"),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)

    for name in [*cases, "missing.csv"]:
        result = read_csv_catalogue(tmp_path / name, source="lms")
        assert result.items == [], name
        assert len(result.problems) == 1, name
        assert result.problems[0].path == name

    latin1 = read_csv_catalogue(tmp_path / "latin1.csv", source="lms").problems[0]
    assert "UTF-8" in latin1.message
    assert latin1.line == 2


def test_real_samples_read_without_problems() -> None:
    catalogue = read_csv_catalogue(SAMPLES / "catalogue.csv", source="lms", columns=LMS_COLUMNS)
    packages = read_lms_packages(
        SAMPLES / "packages", source="packages", base_url="https://lms.example.com/p"
    )

    assert catalogue.problems == []
    assert packages.problems == []
    assert len(catalogue.items) == 12
    assert "GDPR Essentials" in [item.title for item in catalogue.items]
    assert all(item.pillar in {"customer-trust", "efficiency", "people-growth"} for item in catalogue.items)
    assert {item.kind for item in packages.items} == {"course", "sco", "au"}
    assert [item.title for item in packages.items if item.kind == "course"] == [
        "Negotiation Basics",
        "Security Awareness",
    ]
