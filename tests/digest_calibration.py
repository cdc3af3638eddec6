"""The labelled passages that calibrate :data:`retrieval.digest.MIN_RELEVANCE`.

Every passage of the two seed articles plus 32 short news items written for
this set (made-up but typical: on-topic stories, stories that only mention a
topic word, and hard negatives such as "charging a phone" or a phone maker's
"models"), each labelled with the built-in topics it is *about*. A digest
should list a passage for exactly those topics. The last twelve items came
with the user trial of digests: EV stories that name no EV word but a maker
("Li Auto missed its delivery target"), say "electric SUV" rather than "EV",
and phone and power-bank stories that say "battery" and "charging".

``python -m tests.digest_calibration`` prints precision, recall and F1 over
all (topic, passage) pairs for a range of thresholds; ``tests/test_digests.py``
checks the chosen one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.core.corpus import Corpus
from bot.core.digests import Digests, builtin_choice
from retrieval.digest import MIN_RELEVANCE, TopicScorer
from retrieval.topics import TOPICS
from storage import articles, sources
from storage.articles import NewArticle

# Seed passages by their position in the shipped corpus (ids 1-25), with their topics.
SEED_LABELS: dict[int, frozenset[str]] = {
    1: frozenset({"ai", "ev"}),  # generative AI breakthroughs, EV innovations at the auto show
    2: frozenset({"ev", "robotaxi"}),  # BYD's new EV models, Pony.ai's robotaxis
    3: frozenset({"ai"}),  # video generation models
    4: frozenset({"ai"}),  # AI investment, AI avatars
    5: frozenset({"policy"}),  # subsidies, incentives for talent
    6: frozenset({"ai", "chips"}),  # DeepSeek's model vs U.S. chip restrictions
    7: frozenset({"ev"}),  # Nio, Zeekr, BYD abroad; charging speed
    8: frozenset({"ev"}),  # EV differentiation
    9: frozenset(),  # industrial profits, overproduction
    10: frozenset({"energy"}),  # nuclear and hydrogen energy projects
    11: frozenset({"policy"}),  # Politburo priorities, self-reliance
    12: frozenset(),  # yuan, stock indexes
    13: frozenset({"policy"}),  # self-reliance, policy and capital
    14: frozenset({"ipo", "robotaxi"}),  # IPOs of autonomous-driving and AI firms
    15: frozenset({"ipo", "robotaxi"}),  # Pony.ai and WeRide file for Hong Kong IPOs
    16: frozenset({"policy"}),  # AI action plan, industrial policy
    17: frozenset(),  # trade frictions
    18: frozenset({"ai"}),  # open-source AI models
    19: frozenset({"ai"}),  # European-Chinese AI research
    20: frozenset({"energy"}),  # energy supremacy, AI and energy infrastructure
    21: frozenset(),  # Silicon Valley's envy
    22: frozenset(),  # information warfare
    23: frozenset({"ai"}),  # AI investment firehose
    24: frozenset({"ai"}),  # the AI race, hyperscalers
    25: frozenset({"ipo", "chips"}),  # fast-tracked IPOs, export controls
}


@dataclass(frozen=True, slots=True)
class Item:
    text: str
    topics: frozenset[str]


def _item(text: str, *topics: str) -> Item:
    return Item(text, frozenset(topics))


EXTRA: tuple[Item, ...] = (
    _item(
        "Xiaomi's smartphone shipments rose 12% in the third quarter, helped by budget "
        "models in India, while its new tablet line sold out within hours."
    ),
    _item(
        "CATL opened a sodium-ion battery plant in Fujian that will supply entry-level "
        "electric cars from 2027, the battery maker said.",
        "ev",
    ),
    _item(
        "Baidu's Apollo Go robotaxi service passed 10 million driverless rides in Wuhan and "
        "Beijing, and plans fully driverless trips in Hong Kong next year.",
        "robotaxi",
    ),
    _item(
        "SMIC reported record revenue as Chinese customers stocked up on mature-node chips "
        "ahead of new U.S. export controls on semiconductor equipment.",
        "chips",
    ),
    _item(
        "Huawei unveiled its Ascend 920 AI chip, which it says rivals Nvidia's H20 for "
        "training large language models.",
        "chips",
        "ai",
    ),
    _item(
        "The State Council issued guidelines offering tax breaks and subsidies to companies "
        "that build data centres in western provinces, part of its industrial policy for "
        "computing power.",
        "policy",
    ),
    _item(
        "China's National Energy Administration approved ten new nuclear reactors and a "
        "hydrogen pipeline to feed power-hungry data centres.",
        "energy",
    ),
    _item(
        "Moonshot AI released Kimi K2, an open-source large language model with a trillion "
        "parameters, which topped Hugging Face downloads for a week.",
        "ai",
    ),
    _item(
        "Zhipu AI filed for a Shanghai listing, seeking to raise 5 billion yuan in what "
        "would be the first IPO of a Chinese large-model developer.",
        "ipo",
        "ai",
    ),
    _item(
        "Shein postponed its London listing again and is weighing a Hong Kong IPO after "
        "regulators in Beijing asked for more disclosures.",
        "ipo",
    ),
    _item(
        "Tencent's quarterly profit beat forecasts on strong games revenue; the company said "
        "advertising grew 20% as its WeChat mini games gained players."
    ),
    _item(
        "Charging a phone on the high-speed train is now free on all routes, China Railway "
        "said, as it upgrades power sockets in older carriages."
    ),
    _item(
        "Li Auto cut the prices of its L-series SUVs by up to 30,000 yuan as the price war "
        "among Chinese carmakers deepened.",
        "ev",
    ),
    _item(
        "WeRide began testing robobuses without safety drivers in Singapore's Punggol "
        "district, its first driverless service outside China.",
        "robotaxi",
    ),
    _item(
        "Hong Kong's stock exchange said first-half listings raised the most money since "
        "2021, led by battery maker CATL's $4.6 billion share sale.",
        "ipo",
    ),
    _item(
        "A new Beijing rule caps the commission ride-hailing platforms may charge drivers "
        "at 25% of the fare, regulators said.",
        "policy",
    ),
    _item(
        "The industry ministry ordered automakers to stop advertising driver-assistance "
        "features as self-driving or autonomous after a fatal crash.",
        "robotaxi",
        "policy",
    ),
    _item(
        "Temu expanded its semi-managed marketplace to Brazil, where it competes with Shopee "
        "and Mercado Libre for shoppers."
    ),
    _item(
        "A heatwave pushed Sichuan's power grid to a record load, and the province rationed "
        "electricity to factories for a week.",
        "energy",
    ),
    _item(
        "Alibaba cut the price of its Qwen chatbot's API by 80%, the third cut this year as "
        "Chinese AI model makers fight for developers.",
        "ai",
    ),
    # From the user trial of digests (EV stories left out, phone stories let in).
    _item(
        "Xiaomi said its YU7 electric SUV drew 240,000 firm orders in 18 hours after its "
        "launch, more than its SU7 sedan managed in its first day; the company plans a second "
        "production line in Beijing to shorten waiting times.",
        "ev",
    ),
    _item(
        "Nio's mass-market brand Onvo launched the L60, an electric SUV priced from 149,900 "
        "yuan, undercutting Tesla's Model Y. The car uses Nio's battery swap network and a "
        "900-volt architecture.",
        "ev",
    ),
    _item(
        "Li Auto missed its delivery target for the third quarter as demand for its "
        "range-extended SUVs cooled; it delivered 105,000 cars, below the 110,000 it had "
        "forecast.",
        "ev",
    ),
    _item(
        "Zeekr is recalling about 30,000 of its 001 hatchbacks over a software fault that can "
        "cut power to the drive motor, the market regulator said.",
        "ev",
    ),
    _item(
        "Xpeng opened a factory in Guangzhou to build the Land Aircraft Carrier, a six-wheeled "
        "electric vehicle that carries a detachable two-seat flying car.",
        "ev",
    ),
    _item(
        "Leapmotor reported its first quarterly net profit as deliveries rose 97%, helped by "
        "its partnership with Stellantis; the startup expects to sell 500,000 EVs next year.",
        "ev",
    ),
    _item(
        "BYD cut prices on 22 models by up to 34%, setting off a new round of discounts among "
        "Chinese carmakers.",
        "ev",
    ),
    _item(
        "Xiaomi said sales of its 15 Ultra smartphone beat expectations in Europe, where "
        "reviewers praised its Leica camera, long battery life and 90-watt fast charging."
    ),
    _item(
        "Anker recalled 1.1 million power banks sold in China after reports that faulty "
        "battery cells overheated while charging phones."
    ),
    _item(
        "State Grid raised electricity prices for data centres in Inner Mongolia, where new "
        "wind and solar farms are straining transmission lines.",
        "energy",
    ),
    _item(
        "ByteDance's Doubao chatbot passed 100 million daily users, making it the most used "
        "AI assistant in China.",
        "ai",
    ),
    _item(
        "Pony.ai raised $260 million in its Hong Kong listing, the largest by a robotaxi "
        "company this year.",
        "ipo",
        "robotaxi",
    ),
)


@dataclass(frozen=True, slots=True)
class Judged:
    topic: str
    passage_id: int
    relevance: float
    relevant: bool


def judgements() -> list[Judged]:
    """Every (built-in topic, labelled passage) pair with its relevance and its label."""
    now = datetime(2026, 11, 22, tzinfo=UTC)
    corpus = Corpus.open(":memory:", now)
    try:
        labels = dict(SEED_LABELS)
        with corpus.db.atomic():
            source = sources.add_source(corpus.db, kind="text", title="calibration", now=now)
        for number, item in enumerate(EXTRA):
            article = NewArticle(title=f"Calibration item {number}", body=item.text)
            added = corpus.add_article(source, article, now)
            [stored] = articles.iter_passages(corpus.db, after_id=max(labels))
            assert added.passages == 1
            labels[stored.id] = item.topics
        index = corpus.index
        digests = Digests(corpus, ZoneInfo("UTC"))
        judged = []
        for topic in TOPICS:
            # What Digests.compose does, over every passage.
            scorer = TopicScorer(digests.understand(builtin_choice(topic)), index.idf)
            scored = scorer.relevances(index.saturations_after(scorer.terms, 0))
            for passage_id, topics in labels.items():
                share = scored.get(passage_id, 0.0)
                judged.append(Judged(topic.name, passage_id, share, topic.name in topics))
        return judged
    finally:
        corpus.close()


@dataclass(frozen=True, slots=True)
class Scores:
    threshold: float
    precision: float
    recall: float
    f1: float
    false_positives: int
    false_negatives: int


def score(judged: Sequence[Judged], threshold: float) -> Scores:
    tp = sum(1 for j in judged if j.relevant and j.relevance >= threshold)
    fp = sum(1 for j in judged if not j.relevant and j.relevance >= threshold)
    fn = sum(1 for j in judged if j.relevant and j.relevance < threshold)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(threshold, precision, recall, f1, fp, fn)


def main() -> None:
    judged = judgements()
    relevant = sum(j.relevant for j in judged)
    print(f"{len(judged)} (topic, passage) pairs, {relevant} labelled relevant")
    print("threshold  precision  recall   F1     false+  false-")
    for step in range(1, 21):
        s = score(judged, step / 100)
        mark = "  <- MIN_RELEVANCE" if abs(s.threshold - MIN_RELEVANCE) < 1e-9 else ""
        print(
            f"  {s.threshold:.2f}      {s.precision:.3f}     {s.recall:.3f}   {s.f1:.3f}"
            f"   {s.false_positives:4d}    {s.false_negatives:4d}{mark}"
        )


if __name__ == "__main__":
    main()
