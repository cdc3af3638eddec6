"""Uploaded and local documents: Markdown becomes clean text, text files are decoded right."""

from __future__ import annotations

import codecs

import pytest

from bot.core.ingest import Ingestion
from bot.sources.extract import decode
from storage import articles
from storage.articles import StoredPassage
from tests.chinese import BYD_ZH
from tests.sources.test_ingest import PONY

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


HORIZON_MD = """\
# Horizon Robotics wins Volkswagen order

*By Staff Reporter, 2025-07-18*

**Horizon Robotics**, the Beijing chip designer, said [Volkswagen](https://vw.com) will use its
*Journey 6* processors in driver-assistance systems for cars sold in China from 2026.

## Financials

- Revenue rose 53 percent to 2.38 billion yuan in 2024
- The company listed in Hong Kong in October 2024

```
code block should not matter
```

    an indented code block neither

Founder Yu Kai said the company expected to ship 10 million chips in 2025.
"""


@pytest.mark.parametrize("how", ["file", "pasted"])
def test_markdown_lists_and_code_blocks(ingestion: Ingestion, how: str) -> None:
    # Admin trial 2, bug 5: the fenced block became the heading of the Yu Kai passage, the
    # two list items were joined with their dashes ("… 2024 - The company …"), and pasted
    # Markdown kept its marks. Failed before (file: the heading and the dashes; pasted: marks).
    if how == "file":
        report = ingestion.add_document("horizon.md", HORIZON_MD.encode())
    else:
        report = ingestion.add_text(HORIZON_MD)
    assert report.error is None, report.error
    assert report.added[0].title == "Horizon Robotics wins Volkswagen order"
    assert report.added[0].published == "2025-07-18"
    passages = stored(ingestion, report.source_id)
    text = "\n".join(p.text for p in passages)
    assert "code block" not in text
    assert "indented code block" not in text
    assert {p.heading for p in passages} <= {None, "Financials"}
    assert (
        "Revenue rose 53 percent to 2.38 billion yuan in 2024. "
        "The company listed in Hong Kong in October 2024."
    ) in text
    assert "- " not in text
    for mark in ("**", "](", "*Journey"):
        assert mark not in text
    answer = ingestion._corpus.answer("How many chips will Horizon ship in 2025?")
    assert answer.hits[0].candidate.heading != "code block should not matter"


def test_markdown_without_a_heading_takes_its_first_sentence_as_title(
    ingestion: Ingestion,
) -> None:
    body = UNITREE_MD.split("\n", 2)[2].replace("*By Staff Reporter, 2025-07-18*\n", "")
    report = ingestion.add_document("notes.md", body.encode())
    assert report.error is None, report.error
    assert report.added[0].title.startswith("Unitree Robotics, the Hangzhou maker of humanoid")
    assert report.source_title == "notes.md"


# -- decoding text files (trial rough edge 4: a short Latin-1 file read as "Cafķ") ------------

CAFE = "Café owner Zoë said Nio’s naïve plan — swapping batteries — works in Hefei."
CAFE_LATIN1 = "Café owner Zoë said Nio's naïve plan of swapping batteries works in Hefei."
CZECH = (
    "Společnost Škoda Auto oznámila, že začne vyrábět elektromobily v Číně. Řekl to ředitel "
    "podniku, podle něhož bude výroba zahájena příští rok v továrně u Šanghaje."
)
ARTICLE = " ".join(PONY)
ARTICLE_ACCENTED = ARTICLE.replace("Guangzhou's", "Guangzhou’s café-filled").replace(
    "rides", "rides « à la carte »"
)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (CAFE_LATIN1, "latin-1"),
        (CAFE, "cp1252"),
        ("Café chains in Shenzhen.", "latin-1"),
        ("Zoë’s café.", "cp1252"),
        (f"{CAFE_LATIN1} {ARTICLE}" * 20, "latin-1"),
        (f"{CAFE} {ARTICLE_ACCENTED}" * 20, "cp1252"),
        (CZECH, "cp1250"),  # Central European text stays Central European
        ("\n".join(BYD_ZH), "gbk"),
        (CAFE, "utf-8"),
    ],
)
def test_text_is_decoded_by_evidence(text: str, encoding: str) -> None:
    assert decode(text.encode(encoding)) == text


def test_a_utf8_bom_is_dropped() -> None:
    assert decode(codecs.BOM_UTF8 + CAFE.encode()) == CAFE


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-8-sig"])
def test_a_short_western_txt_file_is_added_as_written(ingestion: Ingestion, encoding: str) -> None:
    text = f"{CAFE_LATIN1}\n\n{ARTICLE}"
    report = ingestion.add_document("cafe.txt", text.encode(encoding))
    assert report.error is None, report.error
    assert CAFE_LATIN1.startswith(report.added[0].title.rstrip("…"))
    passages = stored(ingestion, report.source_id)
    assert passages[0].text.startswith(CAFE_LATIN1)
