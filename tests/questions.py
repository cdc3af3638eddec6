"""Questions about the seed articles, phrased as a reader would ask them.

Each answerable question names the passage that answers it (a phrase found
only in that passage) and the sentence(s) the reply should lead with (any of
the listed phrases). Unanswerable questions are about things the seed
articles do not say; the bot must abstain on them. The abstention threshold
(retrieval.answer.MIN_SUPPORT) was calibrated on this set:
``python -m tests.questions`` prints the figures the README reports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    text: str
    passage: str  # a phrase unique to the expected passage
    sentences: tuple[str, ...]  # the best sentence contains one of these


def q(text: str, passage: str, *sentences: str) -> Question:
    return Question(text, passage, sentences or (passage,))


ANSWERABLE: tuple[Question, ...] = (
    q("How many EV models did BYD unveil?", "BYD unveiled five new EV models"),
    q("What new cars did BYD show in April?", "BYD unveiled five new EV models"),
    q(
        "What did Pony.ai reveal about its robotaxis?",
        "cost-slashing robotaxis",
    ),
    q(
        "What can Huawei's driver assistance do now?",
        "valet-style auto-parking",
    ),
    q(
        "Which companies are building AI video generation models?",
        "Shengshu Technology",
    ),
    q("How does iQiyi use AI in production?", "virtual production suite"),
    q("Who is Tim Wang?", "Tim Wang of Monolith Management"),
    q(
        "How much does Baidu save on livestreaming with digital avatars?",
        "cuts livestreaming costs by 80%",
    ),
    q(
        "What does Beijing offer to attract top AI talent?",
        "payouts of up to $690,000",
        "payouts of up to $690,000",
        "incentives to attract global PhDs",
    ),
    q(
        "How much are AI and engineering talents being paid?",
        "payouts of up to $690,000",
    ),
    q(
        "Did US chip restrictions cripple China's AI ambitions?",
        "shattered expectations that U.S. chip restrictions",
    ),
    q(
        "When did DeepSeek release its free model?",
        "release of a free AI model rivaling ChatGPT",
    ),
    q("Which EV makers are going global?", "Nio, Zeekr, and BYD are extending their global"),
    q("What role does Huawei play in vehicle software?", "supplier of vehicle software"),
    q(
        "What do AlixPartners analysts say about EV differentiation?",
        "Analysts at AlixPartners note",
    ),
    q(
        "What did Goldman Sachs say about industrial profits?",
        "industrial profits outside high-tech industries remain flat",
    ),
    q(
        "What is the European Chamber of Commerce worried about?",
        "European Chamber of Commerce warns of overproduction",
    ),
    q(
        "Which nuclear and hydrogen projects were approved?",
        "newly approved nuclear and hydrogen energy projects",
    ),
    q(
        "What priorities were set at the Politburo meeting?",
        "employment stability and technological self-reliance were named top priorities",
    ),
    q(
        "Have Trump and Xi been in contact?",
        "no confirmed contact between Trump and Xi",
    ),
    q(
        "How has the Hang Seng Index performed this year?",
        "climbed nearly 10% year-to-date",
    ),
    q("How did the yuan do against the dollar?", "yuan held steady against the dollar"),
    q(
        "Why is China accelerating IPOs for tech firms?",
        "accelerating initial public offerings for key technology firms",
        "accelerating initial public offerings for key technology firms",
        "streamlining IPO processes to fast-track listings",
    ),
    q(
        "Which robotaxi companies filed for Hong Kong IPOs?",
        "Pony.ai and WeRide, both of which recently filed",
    ),
    q(
        "Who approved the Pony.ai and WeRide IPO filings?",
        "Pony.ai and WeRide, both of which recently filed",
    ),
    q(
        "What does RAND say about China's industrial policy for AI?",
        "Full Stack: China’s Evolving Industrial Policy for AI",
    ),
    q("By when does China want to lead in AI?", "lead in AI by 2030"),
    q(
        "What came out of the trade talks in Madrid?",
        "handshake deals in Madrid",
    ),
    q(
        "What kind of competition is China warning against?",
        "disorderly competition",
    ),
    q(
        "Are Chinese open-source AI models overtaking American ones?",
        "open-source AI models are gaining ground",
    ),
    q(
        "How much has European-Chinese research collaboration on AI grown?",
        "joint research papers doubling",
    ),
    q(
        "How does energy give China an advantage in AI?",
        "dual-track policy in AI and energy infrastructure",
        "dual-track policy in AI and energy infrastructure",
        "strategic focus on energy supremacy",
    ),
    q("Why does Silicon Valley envy China?", "Silicon Valley’s envy of China’s rapid tech"),
    q(
        "Are Chinese companies collecting data on US influencers?",
        "collecting data on U.S. influencers",
    ),
    q(
        "What does CNBC's China Connection newsletter say about AI investment?",
        "opening the firehose",
    ),
    q(
        "What does winning the AI race take besides chips?",
        "winning the AI race demands more than superior",
    ),
    q(
        "Will fast-tracked IPOs be enough to sustain innovation?",
        "fast-tracked IPOs provide immediate capital boosts",
    ),
    q("What does the AJU Press opinion piece say?", "AJU Press opines"),
    q(
        "How quickly is the EV innovation cycle moving now?",
        "multi-year innovation cycle to months",
    ),
    q(
        "What was shown at the Shanghai Auto Show?",
        "showcased at the Shanghai Auto Show",
    ),
)

UNANSWERABLE: tuple[str, ...] = (
    "Who is the CEO of Pony.ai?",
    "What is Tesla's market share in China?",
    "How many robotaxis does Baidu Apollo Go run in Wuhan?",
    "What is the price of the Xiaomi SU7?",
    "When will SMIC ship 3nm chips?",
    "What's the weather in Beijing today?",
    "Who won the World Cup?",
    "How does TikTok's recommendation algorithm work?",
    "How big are CATL's battery factories?",
    "What did Nvidia say about the H20 export ban?",
    "Tell me about Xpeng's flying car",
    "What is the GDP growth forecast for 2026?",
    "Is Huawei's Kirin chip made by TSMC?",
    "How many employees does Alibaba have?",
    "What is the capital of France?",
    "Give me a recipe for dumplings",
)


def main() -> None:  # pragma: no cover - a report for the README, not a test
    import datetime

    from bot.core.corpus import Corpus
    from retrieval import answer as answer_module

    corpus = Corpus.open(":memory:", datetime.datetime.now(datetime.UTC))
    rows = []
    for question in ANSWERABLE:
        ans = corpus.answer(question.text)
        ranked = ans.hits or ans.weak
        best = ranked[0] if ranked else None
        top1 = best is not None and question.passage in best.candidate.text
        sentence = best is not None and any(s in best.sentence.text for s in question.sentences)
        support = best.support if best else 0.0
        rows.append((question.text, top1, sentence, support))
    weak = []
    for text in UNANSWERABLE:
        ans = corpus.answer(text)
        ranked = ans.hits or ans.weak
        weak.append((text, ranked[0].support if ranked else 0.0))
    n = len(rows)
    print(f"answerable questions: {n}, unanswerable: {len(weak)}")
    print(f"top-1 passage accuracy (ranking only): {sum(r[1] for r in rows)}/{n}")
    print(f"best-sentence accuracy (ranking only): {sum(r[2] for r in rows)}/{n}")
    print("threshold  answered-correctly  abstained-correctly")
    for step in range(0, 11):
        tau = step / 10
        good = sum(1 for r in rows if r[1] and r[3] >= tau)
        abstain = sum(1 for w in weak if w[1] < tau)
        mark = " <- MIN_SUPPORT" if abs(tau - answer_module.MIN_SUPPORT) < 1e-9 else ""
        print(f"  {tau:.1f}      {good:2d}/{n}               {abstain:2d}/{len(weak)}{mark}")
    for text, top1, sentence, support in rows:
        if not (top1 and sentence and support >= answer_module.MIN_SUPPORT):
            print(f"  miss: {text!r} top1={top1} sentence={sentence} support={support:.2f}")
    for text, support in weak:
        if support >= answer_module.MIN_SUPPORT:
            print(f"  answered but should abstain: {text!r} support={support:.2f}")


if __name__ == "__main__":  # pragma: no cover
    main()
