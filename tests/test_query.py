"""Query understanding: thesaurus and aliases, frame words, spelling, entities, the lexicon."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrieval.analyze import Analyzer
from retrieval.index import BM25Index
from retrieval.query import (
    ANSWER_COUNT,
    ANSWER_MONEY,
    ANSWER_NAME,
    ANSWER_NUMBER,
    ANSWER_SHARE,
    ANSWER_SOURCE,
    ANSWER_SPEED,
    ANSWER_TIME,
    ANSWER_TITLE,
    EnglishWords,
    Lexicon,
    LexiconError,
    Query,
    QueryParser,
)

A = Analyzer()

# A small real corpus: the parser asks its index which words it knows.
TEXTS = [
    "BYD unveiled five new EV models, while Pony.ai revealed cost-slashing robotaxis.",
    "Pony.ai and WeRide filed for Hong Kong IPOs after approval from the regulator.",
    "Huawei supplies vehicle software; Baidu cuts livestreaming costs with digital avatars.",
    "DeepSeek released a free artificial intelligence model that rivals ChatGPT.",
    "Xiaomi and the chipmaker SMIC are extending their global ambitions.",
    "China aims to lead in AI by 2030, and talents are lured with payouts.",
    "The Hang Seng Index climbed nearly 10% year-to-date while the yuan held steady.",
]


@pytest.fixture(scope="module")
def parser() -> QueryParser:
    return QueryParser(A)


@pytest.fixture(scope="module")
def index() -> BM25Index:
    built = BM25Index()
    built.add(list(range(len(TEXTS))), [A.terms(t) for t in TEXTS])
    return built


def covers(query: Query, text: str) -> list[str]:
    """The question's concepts (as written) that ``text`` says in some form."""
    present = set(A.terms(text))
    return [c.surface for c in query.concepts if c.covered_by(present)]


def surfaces(query: Query) -> list[str]:
    return [c.surface for c in query.concepts]


@pytest.mark.parametrize(
    ("question", "passage"),
    [
        ("Which electric cars did BYD show?", "BYD unveiled five new EV models"),
        ("How many EVs did BYD launch?", "BYD launched new electric vehicles"),
        ("When did Pony.ai go public?", "Pony.ai filed for its IPO"),
        ("Is WeRide planning a listing?", "WeRide plans an initial public offering"),
        ("Did WeRide float?", "WeRide filed for an IPO"),
        ("What is China's artificial intelligence plan?", "China's AI plan"),
        ("Which AI models are free?", "a free artificial intelligence model"),
        ("Are Chinese EV makers expanding abroad?", "China's automakers extend their global reach"),
        ("Which carmakers went overseas?", "international presence of automakers"),
        ("What is SMIC, the chipmaker?", "SMIC, the semiconductor company"),
        ("What did 比亚迪 unveil?", "BYD unveiled five new EV models"),
        ("百度的数字人", "Baidu deploys digital avatars"),
        ("华为提供什么软件?", "Huawei supplies vehicle software"),
        # Traditional script and Taiwanese words meet the lexicon's Simplified forms.
        ("華為提供什麼軟體?", "Huawei supplies vehicle software"),
        ("小米汽车", "Xiaomi cars"),
        ("深度求索的模型", "DeepSeek released a model"),
        ("How much are engineers paid?", "talents are lured with payouts"),
        ("Has EV growth stalled?", "a temporary growth plateau in EVs"),
        # Quarters and halves as people abbreviate them (before, "q3" was a name to find).
        ("smic q3 revenue", "SMIC said third-quarter revenue rose"),
        ("BYD profit in H1", "BYD's first-half profit"),
    ],
)
def test_thesaurus_and_aliases_bridge_the_words_people_use(
    parser: QueryParser, index: BM25Index, question: str, passage: str
) -> None:
    query = parser.parse(question, index)
    assert query.concepts
    assert covers(query, passage) == surfaces(query)


@pytest.mark.parametrize(
    ("question", "passage"),
    [
        ("Who is the CEO of BYD?", "BYD's executives unveiled models"),  # executive is broader
        ("What GPUs does Huawei use?", "Huawei's chips"),  # a chip is not necessarily a GPU
        ("What is Tesla's market share?", "BYD's market share"),
        ("Did Apple invest?", "Alibaba invested"),
    ],
)
def test_the_thesaurus_does_not_overreach(
    parser: QueryParser, index: BM25Index, question: str, passage: str
) -> None:
    query = parser.parse(question, index)
    assert covers(query, passage) != surfaces(query)


def test_a_question_in_chinese_keeps_what_it_cannot_map(
    parser: QueryParser, index: BM25Index
) -> None:
    query = parser.parse("比亚迪的天气怎么样?", index)  # "BYD's weather, how is it?"
    assert [c.label for c in query.concepts if not c.foreign] == ["BYD"]
    assert query.untranslated == ("天气",)
    assert parser.parse("比亚迪发布了几款新电动车?", index).untranslated == ()


def test_chinese_words_the_corpus_holds_are_concepts_of_their_own(parser: QueryParser) -> None:
    """Once Chinese articles are stored, each word of a Chinese question is asked for,
    in either script, weighed by its rarity (before, everything the lexicon did not map
    was one concept, said by a passage holding any of its words, and never an anchor)."""
    text = "分析師指出，二奈米晶片的良率已超過百分之六十。"
    corpus = BM25Index()
    corpus.add([0], [A.terms(text)])
    query = parser.parse("二纳米良率是多少", corpus)
    assert [c.surface for c in query.concepts] == ["二", "纳米", "良率"]
    assert covers(query, text) == ["二", "纳米", "良率"]
    weights = {c.surface: c.weight for c in query.concepts}
    assert weights["良率"] > weights["纳米"] > weights["二"]
    assert query.untranslated == ()  # the articles hold them: no "None of my articles says"
    # A word no article holds is looked for in its parts (jieba joins "厂良率"), and a
    # lone character none holds (卖, where the article says 卖出) asks for nothing.
    text = "华虹表示，新厂首批产品良率已达到92%，明年在欧洲卖出5万辆。"
    corpus.add([1], [A.terms(text)])
    query = parser.parse("华虹新厂良率怎么样", corpus)
    assert "良率" in [c.surface for c in query.concepts]
    assert covers(query, text) == [c.surface for c in query.concepts]
    assert "卖" not in [c.surface for c in parser.parse("华虹明年想在欧洲卖几辆", corpus).concepts]


@pytest.mark.parametrize(
    ("question", "expects", "content"),
    [
        ("How many EV models did BYD unveil?", ANSWER_COUNT, ["EV", "models", "BYD", "unveil"]),
        ("What percentage of cars sold are EVs?", ANSWER_SHARE, ["cars", "sold", "EVs"]),
        ("Who said AI spending is picking up?", ANSWER_SOURCE, ["AI", "spending", "picking up"]),
        ("wich startups rival US AI", ANSWER_NAME, ["startups", "rival", "US", "AI"]),
        ("which kinds of firms get IPOs", None, ["firms", "IPOs"]),
        ("哪些中国公司在做AI视频", ANSWER_NAME, ["中国", "公司", "AI", "视频"]),
        ("what is RAND's report called", ANSWER_TITLE, ["RAND's"]),
        (
            "What is the name of Kuaishou's video model?",
            ANSWER_TITLE,
            ["Kuaishou's", "video model"],
        ),
        ("Is BYD trying to go global vs Tesla?", None, ["BYD", "go global", "Tesla"]),
        ("Which year does China want to lead AI by?", ANSWER_TIME, ["China", "lead", "AI"]),
        ("by what year does china want to lead in ai", ANSWER_TIME, ["china", "lead", "ai"]),
        ("Can you tell me what kind of robotaxis Pony.ai has?", None, ["robotaxis", "Pony.ai"]),
        ("Show me what Beijing offers", None, ["Beijing", "offers"]),
        ("I want to know how much Baidu saves", ANSWER_NUMBER, ["Baidu", "saves"]),
        ("Tell me about DeepSeek", None, ["DeepSeek"]),
        ("When did DeepSeek release its model?", ANSWER_TIME, ["DeepSeek", "release", "model"]),
        # The plain noun and verb of "which companies / who makes" are the frame.
        ("Which firms are making AI video generators?", ANSWER_NAME, ["AI video generators"]),
        ("who makes robotaxis", ANSWER_NAME, ["robotaxis"]),
        ("which firms make films from text prompts", ANSWER_NAME, ["films", "text prompts"]),
        ("what helps startups grow", None, ["helps", "startups", "grow"]),
        ("which consultancy said carmakers need brands", ANSWER_SOURCE, None),
        ("what the article said about BYD", None, ["BYD"]),
        ("besides byd, name chinese car brands", ANSWER_NAME, ["byd", "chinese", "car", "brands"]),
        ("does kuaishou's video generator have a brand name", ANSWER_TITLE, None),
        ("DeepSeek 一月份的模型要钱吗", None, None),
        ("Which carmakers go abroad?", ANSWER_NAME, ["carmakers", "abroad"]),
        # Money, a quantity named by a few words, a speed.
        ("How much did Baidu spend on AI?", ANSWER_MONEY, ["Baidu", "spend", "AI"]),
        # A price word is what the sum of money says: the sentence need not ("a price of").
        ("how much does a byd seal cost", ANSWER_MONEY, ["byd", "seal"]),
        ("What does Unitree charge for the Go2?", ANSWER_MONEY, ["Unitree", "Go2"]),
        ("how cheap is doubao", ANSWER_MONEY, ["doubao"]),
        ("小米YU7多少钱", ANSWER_MONEY, ["小米", "YU7"]),
        ("华为芯片的价格是多少", ANSWER_MONEY, ["华为", "芯片"]),
        ("what is the yuan to dollar rate", ANSWER_NUMBER, ["yuan", "dollar", "rate"]),
        ("How much does Baidu save?", ANSWER_NUMBER, ["Baidu", "save"]),
        ("How quickly are car innovations coming out?", ANSWER_SPEED, ["car", "innovations"]),
        ("whats up with byd", None, ["byd"]),
        ("politburo meeting takeaways", None, ["politburo", "meeting"]),
        ("What did Huawei earn last quarter?", ANSWER_MONEY, ["Huawei", "earn", "quarter"]),
        ("how big is china's state AI fund", ANSWER_MONEY, ["china's", "state", "AI", "fund"]),
        ("what's the deal with the yuan", None, ["yuan"]),
        ("what tariff rate did the eu put on chinese evs", ANSWER_NUMBER, None),
        ("what matters most to the politburo rn", None, ["matters most", "politburo"]),
        (
            "why are vc folks bullish on chinese ai",
            None,
            ["vc", "folks", "bullish", "chinese", "ai"],
        ),
    ],
)
def test_frame_words_are_dropped_and_say_what_answer_is_wanted(
    parser: QueryParser,
    index: BM25Index,
    question: str,
    expects: str | None,
    content: list[str] | None,
) -> None:
    query = parser.parse(question, index)
    assert query.expects == expects
    assert content is None or surfaces(query) == content
    frame_terms = {"want", "show", "kind", "tell", "mani", "much", "year", "know"}
    assert not frame_terms.intersection(query.search_terms)


def test_year_to_date_is_one_concept_and_this_year_means_it(
    parser: QueryParser, index: BM25Index
) -> None:
    query = parser.parse("How much is the Hang Seng up this year?", index)
    assert covers(query, TEXTS[6]) == surfaces(query) == ["Hang Seng", "this year"]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("modles", "models"), ("unviel", "unveil"), ("huawie", "huawei"), ("aproved", "approval")],
)
def test_words_unknown_to_the_corpus_are_corrected_against_it(
    parser: QueryParser, index: BM25Index, typed: str, meant: str
) -> None:
    query = parser.parse(f"what did byd {typed}", index)
    [(before, after)] = query.corrections
    assert before == typed
    assert A.terms(after) == A.terms(meant)
    concept = next(c for c in query.concepts if c.corrected_from == typed)
    assert concept.covered_by(set(A.terms(meant)))


@pytest.mark.parametrize(
    "question",
    [
        "How many employees does BYD have?",  # a real word the corpus lacks is not "fixed"
        "What is Tesla's price?",  # a lexicon word is never corrected
        "Who founded Xpeng?",
    ],
)
def test_real_words_are_left_alone(parser: QueryParser, index: BM25Index, question: str) -> None:
    assert parser.parse(question, index).corrections == ()


def test_a_typo_in_a_frame_word_drops_it(parser: QueryParser, index: BM25Index) -> None:
    query = parser.parse("hwo much does baidu save", index)
    assert ("hwo", "how") in query.corrections
    assert query.expects == ANSWER_NUMBER
    assert surfaces(query) == ["baidu", "save"]


def test_the_speller_follows_the_corpus(parser: QueryParser) -> None:
    grown = BM25Index()
    grown.add([0], [A.terms("Zeekr unveiled a wagon")])
    assert parser.parse("what did zekr unveil", grown).corrections == (("zekr", "zeekr"),)
    grown.add([1], [A.terms("Zeekor is another brand")])  # the vocabulary changed
    assert parser.parse("what did zeekorr unveil", grown).corrections == (("zeekorr", "zeekor"),)


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What is Tesla's market share in China?", ["Tesla's"]),  # lexicon company
        ("What is the price of the SU7 in Europe?", ["SU7"]),  # letters and digits
        ("Who won the World Cup in 2022?", ["World", "Cup", "2022"]),  # capitalised
        ("did zhipuzz launch anything", ["zhipuzz"]),  # no English word
        ("What Is The Capital Of China?", []),  # Title Case says nothing
        ("How does iQiyi's virtual production toolset save money?", ["iQiyi's"]),
    ],
)
def test_entities(parser: QueryParser, index: BM25Index, question: str, names: list[str]) -> None:
    query = parser.parse(question, index)
    assert [c.surface for c in query.concepts if c.entity] == names


def test_own_words_weigh_double_in_the_search(parser: QueryParser, index: BM25Index) -> None:
    query = parser.parse("electric car", index)
    terms = query.search_terms
    assert terms.count("electr") == 2
    assert terms.count("car") == 2
    assert terms.count("ev") == 1  # a synonym, once


def test_weights_do_not_depend_on_the_corpus(parser: QueryParser, index: BM25Index) -> None:
    small = parser.parse("How many robotaxis did Pony.ai reveal?", index)
    grown = BM25Index()
    grown.add(list(range(500)), [A.terms(f"robotaxi number {i} in town") for i in range(500)])
    large = parser.parse("How many robotaxis did Pony.ai reveal?", grown)
    assert [c.weight for c in small.concepts] == [c.weight for c in large.concepts]


# -- the lexicon itself ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load()


def test_the_lexicon_is_broad(lexicon: Lexicon) -> None:
    entities = [g for g in lexicon.groups if g.kind == "entity"]
    synonyms = [g for g in lexicon.groups if g.kind == "synonym"]
    assert len(entities) >= 100
    assert len(synonyms) >= 100
    assert len(lexicon.frames) >= 80
    labels = {g.label for g in entities}
    assert {"BYD", "Baidu", "Huawei", "Xiaomi", "DeepSeek", "Alibaba", "Tencent"} <= labels


def _forms(lexicon: Lexicon) -> Iterator[tuple[str, str]]:
    for group in lexicon.groups:
        for form in group.forms:
            yield group.kind, form


def test_every_form_says_something(lexicon: Lexicon) -> None:
    """Reviewed for precision: no form is only stopwords (it would match anything)."""
    for kind, form in _forms(lexicon):
        assert A.terms(form), (kind, form)


# Reviewed: names that are also English words, but nearly always names in these news.
COMMON_WORD_NAMES = {
    "goldman", "rand", "pravda", "trump", "musk", "facebook", "korea", "britain",
    "japanese", "korean", "german", "french", "british", "russian", "indian", "hungarian",
}  # fmt: skip


def test_no_entity_form_is_a_common_word_unless_reviewed(lexicon: Lexicon) -> None:
    """An entity form that is a common English word makes every question using the
    word demand the entity ("apple" is listed only as "苹果公司", "fox" only in
    "Fox News"); the few kept are reviewed above."""
    english = EnglishWords.load()
    for group in lexicon.groups:
        if group.kind != "entity":
            continue
        for form in group.forms:
            word = form.casefold()
            if " " not in word and word.isalpha() and word.isascii():
                common = english.common(word) and word != group.label.casefold()
                assert not common or word in COMMON_WORD_NAMES, form


def test_frames_and_groups_do_not_collide(parser: QueryParser, lexicon: Lexicon) -> None:
    """A phrase listed both as a frame and as a lexicon form would be ambiguous."""
    group_forms = {form.casefold() for _, form in _forms(lexicon)}
    assert not group_forms.intersection(p.casefold() for p in lexicon.frames)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("BYD | 比亚迪\n", "before the first"),
        ("[nonsense]\n", "unknown section"),
        ("[synonyms]\nalone\n", "more forms"),
        ("[broader]\nchip gpu\n", "general > specific"),
        ("[frame]\nhow many = colour\n", "unknown answer kind"),
    ],
)
def test_lexicon_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        Lexicon.parse(text)


def test_a_small_lexicon_parses() -> None:
    lexicon = Lexicon.parse(
        "# comment\n[companies]\nBYD | 比亚迪\n[synonyms]\nev | electric car\n"
        "[broader]\nchip > gpu | processor\n[frame]\nhow many = number\ntell me\n"
    )
    assert [(g.kind, g.forms) for g in lexicon.groups] == [
        ("entity", ("BYD", "比亚迪")),
        ("synonym", ("ev", "electric car")),
        ("broader", ("chip",)),
    ]
    assert lexicon.groups[2].matches == ("chip", "gpu", "processor")
    assert lexicon.frames == {"how many": "number", "tell me": None}


@pytest.mark.parametrize(
    ("question", "label", "slip"),
    [
        ("what did goldman sacks say", "Goldman Sachs", ("sacks", "sachs")),
        ("is the hang sang index up", "Hang Seng Index", ("sang", "seng")),
    ],
)
def test_a_slip_in_one_word_of_a_name_is_forgiven(
    parser: QueryParser, index: BM25Index, question: str, label: str, slip: tuple[str, str]
) -> None:
    """ "sacks" is an English word, so the speller leaves it alone; inside a name the
    lexicon knows it is a slip (before, "sacks" stayed a concept of its own)."""
    query = parser.parse(question, index)
    entities = [c for c in query.concepts if c.entity]
    assert [c.label for c in entities] == [label]
    assert slip in query.corrections


def test_a_misspelt_plural_of_a_common_word_is_no_name(
    parser: QueryParser, index: BM25Index
) -> None:
    """ "deliverys" is in no word list, but its stem is that of "deliveries": not a name
    the answer must say (before, it was, and the question was refused)."""
    query = parser.parse("how much did xpeng deliverys grow", index)
    assert [c.surface for c in query.concepts if c.entity] == ["xpeng"]


def test_a_name_is_not_matched_by_a_different_word(parser: QueryParser, index: BM25Index) -> None:
    query = parser.parse("what did goldman bosses say", index)
    assert [c.surface for c in query.concepts] == ["goldman", "bosses"]


def test_words_the_stemmer_keeps_apart_still_meet(parser: QueryParser) -> None:
    """Snowball stems "strategically" to "strateg" and "strategy" to "strategi", "compete"
    to "compet" and "competitive" to "competit": the question's word is also said by
    its relative in the corpus (before, neither met the other)."""
    text = "Competitive pressure shapes the strategy of carmakers."
    corpus = BM25Index()
    corpus.add([0], [A.terms(text)])
    query = parser.parse("Do carmakers compete strategically?", corpus)
    assert covers(query, text) == ["carmakers", "compete", "strategically"]
    assert "strategi" in query.search_terms
    # The doer and the deed: "who founded" is said by "founder", "supply" by "supplier"
    # (before, "found" and "founder" did not meet).
    text = "Liang Wenfeng, DeepSeek's founder, picked a supplier."
    corpus.add([2], [A.terms(text)])
    assert covers(parser.parse("who founded DeepSeek", corpus), text) == ["founded", "DeepSeek"]
    assert covers(parser.parse("who supplies DeepSeek", corpus), text) == ["supplies", "DeepSeek"]
    # "deposit" is not "depos" (depose): shorter relatives need a longer stem.
    corpus.add([3], [A.terms("They depose the board.")])
    assert covers(parser.parse("bank deposits", corpus), "They depose the board.") == []


def test_a_word_listed_as_written_keeps_to_its_groups(
    parser: QueryParser, index: BM25Index
) -> None:
    """ "electricity" shares its stem with "electric" (EVs) but is the energy group's;
    "worries" keeps every group listing an inflection of it."""
    electricity = parser.parse("how does electricity factor into the ai race", index).concepts[0]
    assert electricity.label == "energy"
    assert "ev" not in electricity.search
    worries = parser.parse("overproduction worries", index).concepts[1]
    assert {"anxieti", "risk"} <= set(worries.search)


def test_a_compound_of_known_words_is_split(parser: QueryParser, index: BM25Index) -> None:
    query = parser.parse("how much has eu-china research grown", index)
    labels = [(c.surface, c.label) for c in query.concepts[:2]]
    assert labels == [("eu", "europe"), ("china", "china")]
    # A compound with a word the lexicon does not know stays one concept.
    assert surfaces(parser.parse("high-tech exports", index))[0] == "high-tech"


def test_dating_words_are_optional(parser: QueryParser, index: BM25Index) -> None:
    query = parser.parse("anything new from byd this spring?", index)
    assert [(c.surface, c.optional) for c in query.concepts] == [("byd", False), ("spring", True)]
    rally = parser.parse("spring rally in tech stocks", index)
    assert [c.surface for c in rally.concepts if not c.optional] == ["rally", "tech", "stocks"]


def test_chat_words_are_not_taken_for_names(parser: QueryParser, index: BM25Index) -> None:
    """ "vc", "govt", "ppl" and "dc" are no unknown names a passage must spell."""
    for question in (
        "why are vc folks bullish on chinese ai",
        "how does the govt help high tech cos",
        "does the state help ppl with jobs",
        "did beijing send anyone to the meetings in dc",
    ):
        query = parser.parse(question, index)
        assert not any(c.entity for c in query.concepts), question


def test_what_the_answer_leaves_out_is_not_required(parser: QueryParser, index: BM25Index) -> None:
    query = parser.parse("besides byd, name chinese car brands going abroad", index)
    byd = query.concepts[0]
    assert (byd.surface, byd.entity, byd.optional) == ("byd", False, True)


def test_fall_is_a_fall_not_a_season(parser: QueryParser, index: BM25Index) -> None:
    query = parser.parse("did the hang seng index fall in march", index)
    assert [(c.surface, c.optional) for c in query.concepts[1:]] == [
        ("fall", False),
        ("march", True),
    ]
