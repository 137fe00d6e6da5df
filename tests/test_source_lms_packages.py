"""The SCORM/cmi5 package source: real package folders and zips written to tmp_path."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from content_index.sources.base import SourceItem
from content_index.sources.lms_packages import read_lms_packages

BASE = "https://lms.example.com/lms"

SCORM_2004 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="MANIFEST-NEG" version="1"
          xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
          xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
          xmlns:lom="http://ltsc.ieee.org/xsd/LOM">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="ORG-NEG">
    <organization identifier="ORG-NEG">
      <title>Negotiation Basics</title>
      <metadata><lom:lom><lom:general><lom:description>
        <lom:string language="fr">Les bases</lom:string>
        <lom:string language="en">Prepare, bargain and close.</lom:string>
      </lom:description></lom:general></lom:lom></metadata>
      <item identifier="ITEM-PREPARE" identifierref="RES-PREPARE">
        <title>Prepare Your BATNA</title>
        <metadata><lom:lom><lom:educational><lom:typicalLearningTime>
          <lom:duration>PT10M</lom:duration>
        </lom:typicalLearningTime></lom:educational></lom:lom></metadata>
      </item>
      <item identifier="ITEM-BARGAIN" identifierref="RES-BARGAIN" parameters="?step=2">
        <title>Trading Concessions</title>
        <metadata><lom:lom><lom:educational><lom:typicalLearningTime>
          <lom:duration>PT14M30S</lom:duration>
        </lom:typicalLearningTime></lom:educational></lom:lom></metadata>
      </item>
      <item identifier="ITEM-GLOSSARY" identifierref="RES-GLOSSARY"><title>Glossary</title></item>
    </organization>
  </organizations>
  <resources xml:base="content/">
    <resource identifier="RES-PREPARE" type="webcontent" adlcp:scormType="sco" href="prepare/index.html"/>
    <resource identifier="RES-BARGAIN" type="webcontent" adlcp:scormType="sco" xml:base="bargain/"
              href="start.html?mode=normal"/>
    <resource identifier="RES-GLOSSARY" type="webcontent" adlcp:scormType="asset" href="glossary.pdf"/>
  </resources>
</manifest>
"""

SCORM_12 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="SAFETY" version="1.0"
          xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
          xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
          xmlns:imsmd="http://www.imsglobal.org/xsd/imsmd_rootv1p2p1">
  <organizations default="ORG1">
    <organization identifier="ORG1">
      <title>Office Safety</title>
      <item identifier="MODULE-1">
        <title>Module 1</title>
        <item identifier="SCO-FIRE" identifierref="RES-FIRE" isvisible="true">
          <title>Fire Drills</title>
          <metadata><imsmd:lom><imsmd:educational><imsmd:typicallearningtime>
            <imsmd:datetime>00:20:00</imsmd:datetime>
          </imsmd:typicallearningtime></imsmd:educational></imsmd:lom></metadata>
        </item>
      </item>
      <item identifier="SCO-ERGO" identifierref="RES-ERGO"><title>Desk Ergonomics</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES-FIRE" type="webcontent" adlcp:scormtype="sco" href="fire/index.htm"/>
    <resource identifier="RES-ERGO" type="webcontent" adlcp:scormtype="sco"
              href="https://cdn.example.com/ergo/launch.html"/>
  </resources>
</manifest>
"""

CMI5 = """<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://example.com/security">
    <title>
      <langstring lang="de-DE">Sicherheitsbewusstsein</langstring>
      <langstring lang="en-US">Security Awareness</langstring>
    </title>
    <description><langstring lang="en-US">Stay safe online.</langstring></description>
  </course>
  <block id="https://example.com/security/block-1">
    <title><langstring lang="en-US">Basics</langstring></title>
    <au id="https://example.com/security/phishing">
      <title><langstring lang="en-GB">Spotting Phishing</langstring></title>
      <description><langstring lang="en-US">Five signs of a phishing email.</langstring></description>
      <url>phishing/index.html</url>
    </au>
  </block>
  <au id="https://example.com/security/passwords">
    <title>
      <langstring lang="fr-FR">Mots de passe</langstring><langstring lang="de">Passwörter</langstring>
    </title>
    <url>https://cdn.example.com/passwords/</url>
  </au>
</courseStructure>
"""

LEARNBOT_YAML = """pillar: Customer Trust
skills: [Negotiation, Influencing]
impact:
  - Better margins
audience: [sales, manager]
reviewed: 2026-03-01
"""


def write_folder(root: Path, name: str, files: dict[str, str]) -> Path:
    package = root / name
    for relative_name, text in files.items():
        target = package / relative_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return package


def write_zip(root: Path, name: str, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def by_id(items: list[SourceItem]) -> dict[str, SourceItem]:
    return {item.id: item for item in items}


def test_scorm_2004_folder_package_with_learnbot_yaml(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_folder(root, "negotiation", {"imsmanifest.xml": SCORM_2004, "learnbot.yaml": LEARNBOT_YAML})

    result = read_lms_packages(root, source="lms-packages", base_url=BASE)

    assert result.problems == []
    assert [(i.id, i.kind, i.title) for i in result.items] == [
        ("negotiation-org-neg", "course", "Negotiation Basics"),
        ("negotiation-item-prepare", "sco", "Prepare Your BATNA"),
        ("negotiation-item-bargain", "sco", "Trading Concessions"),
    ]  # the glossary item points at an asset, not a SCO
    course, prepare, bargain = result.items
    assert course.summary == "Prepare, bargain and close."  # English preferred over the first (French)
    assert (
        course.url == "https://lms.example.com/lms/negotiation/content/prepare/index.html"
    )  # opens at its first SCO
    assert course.duration_minutes == 25  # 10 + 15 (14m30s rounded up)
    assert prepare.url == "https://lms.example.com/lms/negotiation/content/prepare/index.html"
    assert (
        bargain.url == "https://lms.example.com/lms/negotiation/content/bargain/start.html?mode=normal&step=2"
    )
    assert (prepare.duration_minutes, bargain.duration_minutes) == (10, 15)
    for item in result.items:
        assert item.source == "lms-packages"
        assert item.pillar == "customer-trust"
        assert item.skills == ["Negotiation", "Influencing"]
        assert item.impact == ["Better margins"]
        assert item.audience == ["sales", "manager"]
        assert item.reviewed == dt.date(2026, 3, 1)
    assert prepare.location == "packages/negotiation/imsmanifest.xml:ITEM-PREPARE"


def test_learnbot_yaml_duration_wins_over_the_manifest(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_folder(
        root, "negotiation", {"imsmanifest.xml": SCORM_2004, "learnbot.yaml": "duration_minutes: 5\n"}
    )

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert result.problems == []
    assert [item.duration_minutes for item in result.items] == [5, 5, 5]


def test_scorm_12_namespaces_nested_items_and_absolute_launch_links(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_folder(root, "Office Safety", {"imsmanifest.xml": SCORM_12})

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert result.problems == []
    items = by_id(result.items)
    assert list(items) == ["office-safety-org1", "office-safety-sco-fire", "office-safety-sco-ergo"]
    assert items["office-safety-org1"].title == "Office Safety"
    assert items["office-safety-org1"].duration_minutes is None  # not every SCO says how long it takes
    fire = items["office-safety-sco-fire"]
    assert (fire.kind, fire.title, fire.duration_minutes) == ("sco", "Fire Drills", 20)
    assert fire.url == "https://lms.example.com/lms/Office%20Safety/fire/index.htm"
    assert items["office-safety-sco-ergo"].url == "https://cdn.example.com/ergo/launch.html"
    assert fire.pillar is None and fire.skills == []  # no learnbot.yaml: nothing invented


def test_cmi5_zip_package_with_langstrings_and_blocks(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_zip(
        root,
        "security-awareness.zip",
        {
            "cmi5.xml": CMI5,
            "learnbot.yaml": "pillar: customer-trust\naudience: everyone\n",
            "phishing/index.html": "x",
        },
    )

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert result.problems == []
    course, phishing, passwords = result.items
    assert (course.kind, course.id, course.title) == (
        "course",
        "security-awareness-https-example-com-security",
        "Security Awareness",  # en-US preferred over the first langstring (de-DE)
    )
    assert course.summary == "Stay safe online."
    assert (phishing.kind, phishing.id, phishing.title) == (
        "au",
        "security-awareness-https-example-com-security-phishing",
        "Spotting Phishing",
    )
    assert phishing.summary == "Five signs of a phishing email."
    assert phishing.url == "https://lms.example.com/lms/security-awareness/phishing/index.html"
    assert passwords.title == "Mots de passe"  # no English: the first one
    assert passwords.url == "https://cdn.example.com/passwords/"
    assert all(item.pillar == "customer-trust" and item.audience == ["everyone"] for item in result.items)
    assert (
        phishing.location == "packages/security-awareness.zip/cmi5.xml:https://example.com/security/phishing"
    )


def test_ids_are_stable_across_runs(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_folder(root, "negotiation", {"imsmanifest.xml": SCORM_2004})
    write_zip(root, "security.zip", {"cmi5.xml": CMI5})

    first = read_lms_packages(root, source="lms", base_url=BASE)
    second = read_lms_packages(root, source="lms", base_url=BASE)

    assert [i.id for i in first.items] == [i.id for i in second.items]
    assert [i.content_hash for i in first.items] == [i.content_hash for i in second.items]


def test_malformed_xml_is_one_problem_with_line_and_other_packages_still_read(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    broken = SCORM_2004.replace("<title>Trading Concessions</title>", "<title>Trading Concessions</titel>")
    write_folder(root, "broken", {"imsmanifest.xml": broken})
    write_folder(root, "good", {"imsmanifest.xml": SCORM_12})

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert [item.title for item in result.items] == ["Office Safety", "Fire Drills", "Desk Ergonomics"]
    [problem] = result.problems
    assert problem.path == "packages/broken/imsmanifest.xml"
    assert (
        problem.line
        == broken.splitlines().index(next(line for line in broken.splitlines() if "</titel>" in line)) + 1
    )
    assert "malformed XML" in problem.message
    assert str(problem).startswith(f"packages/broken/imsmanifest.xml:{problem.line}: ")


def test_malformed_xml_in_a_zip_names_the_zip(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_zip(root, "broken.zip", {"cmi5.xml": "<courseStructure>\n<course>\n</courseStructure>"})

    [problem] = read_lms_packages(root, source="lms", base_url=BASE).problems

    assert problem.path == "packages/broken.zip/cmi5.xml"
    assert problem.line == 3


def test_missing_manifest_and_nested_manifest_are_problems(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_folder(root, "no-manifest", {"index.html": "<html></html>"})
    write_zip(root, "wrapped.zip", {"course/imsmanifest.xml": SCORM_12})
    (root / "notes.txt").write_text("not a package, ignored", encoding="utf-8")

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert result.items == []
    assert [p.path for p in result.problems] == ["packages/no-manifest", "packages/wrapped.zip"]
    assert "imsmanifest.xml" in result.problems[0].message
    assert "course/imsmanifest.xml" in result.problems[1].message
    assert "root" in result.problems[1].message


def test_manifest_without_title_is_one_problem(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_folder(root, "untitled", {"imsmanifest.xml": SCORM_12.replace("<title>Office Safety</title>", "")})
    write_zip(
        root,
        "untitled-cmi5.zip",
        {"cmi5.xml": CMI5.replace("Security Awareness", "").replace("Sicherheitsbewusstsein", "")},
    )

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert result.items == []
    assert [p.path for p in result.problems] == [
        "packages/untitled/imsmanifest.xml",
        "packages/untitled-cmi5.zip/cmi5.xml",
    ]
    assert all("title" in p.message for p in result.problems)


def test_a_bad_sco_is_a_problem_and_its_siblings_are_still_read(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    escaping = SCORM_12.replace('href="fire/index.htm"', 'href="../../etc/passwd"')
    untitled = SCORM_2004.replace("<title>Trading Concessions</title>", "")
    write_folder(root, "safety", {"imsmanifest.xml": escaping})
    write_folder(root, "negotiation", {"imsmanifest.xml": untitled})

    result = read_lms_packages(root, source="lms", base_url=BASE)

    items = by_id(result.items)
    assert list(items) == [
        "negotiation-org-neg",
        "negotiation-item-prepare",
        "safety-org1",
        "safety-sco-ergo",
    ]
    assert items["safety-org1"].url == "https://cdn.example.com/ergo/launch.html"  # its first good SCO
    assert [(p.path, p.line) for p in result.problems] == [
        ("packages/negotiation/imsmanifest.xml", None),
        ("packages/safety/imsmanifest.xml", None),
    ]
    untitled_problem, escaping_problem = (p.message for p in result.problems)
    assert "sco 'ITEM-BARGAIN'" in untitled_problem and "title" in untitled_problem
    assert "sco 'SCO-FIRE'" in escaping_problem and "outside the package" in escaping_problem


def test_bad_learnbot_yaml_is_one_problem_for_the_package(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_folder(root, "typo", {"imsmanifest.xml": SCORM_12, "learnbot.yaml": "skill: [Safety]\n"})
    write_folder(
        root, "bad-duration", {"imsmanifest.xml": SCORM_12, "learnbot.yaml": "duration_minutes: soon\n"}
    )
    write_folder(root, "bad-yaml", {"imsmanifest.xml": SCORM_12, "learnbot.yaml": "pillar: [unclosed\n"})

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert result.items == []
    # the problem names the package, so the indexer keeps the package's stored items meanwhile
    problems = {p.path: p.message for p in result.problems}
    assert set(problems) == {"packages/typo", "packages/bad-duration", "packages/bad-yaml"}
    assert problems["packages/typo"].startswith("learnbot.yaml: unknown field(s) skill;")
    assert problems["packages/bad-duration"].startswith("learnbot.yaml: ")
    assert "soon" in problems["packages/bad-duration"]
    assert problems["packages/bad-yaml"].startswith("learnbot.yaml line 2: invalid YAML")


def test_a_non_zip_file_named_zip_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    root.mkdir()
    (root / "fake.zip").write_bytes(b"this is not a zip file at all")
    (root / "truncated.zip").write_bytes(
        write_zip(tmp_path / "tmp", "ok.zip", {"cmi5.xml": CMI5}).read_bytes()[:60]
    )
    write_zip(root, "good.zip", {"cmi5.xml": CMI5})

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert [i.title for i in result.items if i.kind == "course"] == ["Security Awareness"]
    assert [p.path for p in result.problems] == ["packages/fake.zip", "packages/truncated.zip"]
    assert all("zip" in p.message for p in result.problems)


def test_zip_slip_member_names_are_never_extracted(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_zip(
        root,
        "sneaky.zip",
        {"cmi5.xml": CMI5, "../../escaped.txt": "boom", "/tmp/absolute-escape.txt": "boom"},
    )
    write_zip(root, "only-outside.zip", {"../imsmanifest.xml": SCORM_12})

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert [i.title for i in result.items if i.kind == "course"] == ["Security Awareness"]
    [problem] = result.problems
    assert problem.path == "packages/only-outside.zip"
    assert not (tmp_path / "escaped.txt").exists()
    assert not list(tmp_path.rglob("escaped.txt"))


def test_huge_manifest_in_a_zip_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    padding = "<!--" + "x" * (6 * 1024 * 1024) + "-->"
    write_zip(root, "bomb.zip", {"imsmanifest.xml": SCORM_12 + padding})

    [problem] = read_lms_packages(root, source="lms", base_url=BASE).problems

    assert problem.path == "packages/bomb.zip"
    assert "larger than" in problem.message


def test_external_entities_are_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN", encoding="utf-8")
    root = tmp_path / "packages"
    xxe = SCORM_12.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE manifest [<!ENTITY xxe SYSTEM "file://{secret}">]>',
    ).replace("<title>Office Safety</title>", "<title>&xxe;</title>")
    write_folder(root, "xxe", {"imsmanifest.xml": xxe})
    write_zip(root, "xxe.zip", {"imsmanifest.xml": xxe})

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert result.items == []
    assert [p.path for p in result.problems] == [
        "packages/xxe/imsmanifest.xml",
        "packages/xxe.zip/imsmanifest.xml",
    ]
    assert all("entities" in p.message for p in result.problems)
    assert "TOP-SECRET-TOKEN" not in repr(result)


def test_entity_expansion_bomb_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    bomb = SCORM_12.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE manifest [{entities}]>',
    ).replace("<title>Office Safety</title>", "<title>&a9;</title>")
    write_folder(root, "bomb", {"imsmanifest.xml": bomb})

    [problem] = read_lms_packages(root, source="lms", base_url=BASE).problems

    assert problem.path == "packages/bomb/imsmanifest.xml"


def test_a_plain_doctype_without_entities_is_fine(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    manifest = SCORM_12.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE manifest SYSTEM "imscp_rootv1p1p2.dtd">',
    )
    write_folder(root, "doctype", {"imsmanifest.xml": manifest})

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert result.problems == []
    assert [i.title for i in result.items] == ["Office Safety", "Fire Drills", "Desk Ergonomics"]


def test_the_same_package_twice_reports_duplicate_ids(tmp_path: Path) -> None:
    root = tmp_path / "packages"
    write_folder(root, "safety", {"imsmanifest.xml": SCORM_12})
    write_zip(root, "safety.zip", {"imsmanifest.xml": SCORM_12})

    result = read_lms_packages(root, source="lms", base_url=BASE)

    assert len(result.items) == 3
    assert len(result.problems) == 3
    assert all("duplicate id" in p.message and "packages/safety/" in p.message for p in result.problems)


def test_a_missing_folder_is_one_problem(tmp_path: Path) -> None:
    result = read_lms_packages(tmp_path / "nope", source="lms")

    assert result.items == []
    assert len(result.problems) == 1


def test_a_relative_launch_path_without_a_base_url_is_a_problem_not_a_dead_link(tmp_path: Path) -> None:
    """Nothing serves package files: a relative link needs the LMS's base URL, or the unit is refused."""
    root = tmp_path / "packages"
    write_folder(root, "negotiation", {"imsmanifest.xml": SCORM_2004, "learnbot.yaml": LEARNBOT_YAML})
    result = read_lms_packages(root, source="lms")
    assert all(item.url is None for item in result.items)  # no link that leads nowhere
    assert result.problems and all("base_url" in problem.message for problem in result.problems)
    assert "is relative, and nothing serves it" in result.problems[0].message
