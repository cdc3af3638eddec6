"""Uploaded and local documents: Markdown becomes clean text, text files are decoded right."""

from __future__ import annotations

from bot.core.ingest import Ingestion
from storage import articles
from storage.articles import StoredPassage

UNITREE_MD = """\
# Unitree files for a Shanghai IPO

*By Staff Reporter, 2025-07-18*

Unitree Robotics, the Hangzhou maker of **humanoid robots** and robot dogs, has begun the
paperwork for an initial public offering on Shanghai's [STAR Market](https://example.com/star),
according to a filing with the _China Securities Regulatory Commission_.

## What the filing says

The company named `CITIC Securities` as its adviser. Founder Wang Xingxing holds about a
quarter of the shares, and investors include __Tencent__, Alibaba and Geely.

- Revenue passed 1 billion yuan last year
- Its G1 humanoid sells for 99,000 yuan
* The H1 was shown at the Spring Festival gala

> "Humanoid robots will be as common as phones," Wang said in an interview.

1. A listing could come within a year.
2. The valuation was put at about 12 billion yuan in the last round.
"""


def stored(ingestion: Ingestion, source_id: int | None) -> list[StoredPassage]:
    assert source_id is not None
    return articles.source_passages(ingestion._corpus.db, source_id)


def test_markdown_becomes_clean_text_with_its_headings(ingestion: Ingestion) -> None:
    # Trial bug 8: passages kept **humanoid robots**, and the byline became a heading.
    report = ingestion.add_document("unitree.md", UNITREE_MD.encode())
    assert report.error is None, report.error
    [added] = report.added
    assert added.title == "Unitree files for a Shanghai IPO"
    assert added.published == "2025-07-18"  # from the byline
    passages = stored(ingestion, report.source_id)
    text = "\n".join(p.text for p in passages)
    assert "humanoid robots and robot dogs" in text
    assert "on Shanghai's STAR Market, according to a filing with the China Securities" in text
    assert "named CITIC Securities as its adviser" in text
    assert "include Tencent, Alibaba" in text
    for mark in ("**", "__", "`", "](", "[STAR", "> ", "# ", "_China", "*By"):
        assert mark not in text, mark
    assert "Staff Reporter" not in text  # the byline is no passage text ...
    assert passages[0].heading is None  # ... and no heading
    assert passages[0].text.startswith("Unitree Robotics, the Hangzhou maker")
    # The section heading is the context of its section; list items are text, not headings.
    assert {p.heading for p in passages[1:]} == {"What the filing says"}
    assert "Revenue passed 1 billion yuan last year" in text
    assert "The H1 was shown at the Spring Festival gala" in text
    assert "as common as phones" in text
    answer = ingestion._corpus.answer("What does the Unitree G1 humanoid sell for?")
    assert not answer.abstained
    assert answer.hits[0].candidate.title == "Unitree files for a Shanghai IPO"


def test_markdown_without_a_heading_takes_its_first_sentence_as_title(
    ingestion: Ingestion,
) -> None:
    body = UNITREE_MD.split("\n", 2)[2].replace("*By Staff Reporter, 2025-07-18*\n", "")
    report = ingestion.add_document("notes.md", body.encode())
    assert report.error is None, report.error
    assert report.added[0].title.startswith("Unitree Robotics, the Hangzhou maker of humanoid")
    assert report.source_title == "notes.md"
