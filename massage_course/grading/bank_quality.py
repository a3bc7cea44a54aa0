"""How well a set of item banks is written, measured the way an item-writing review reads it (NBME's guide).

A trainee who knows nothing can still score if the key gives itself away: the key is the longest option, the key
sits on one letter, or the key is the one option that defers ("ask the nurse", "the care team", "policy"). These
figures make such cues visible, for the repository's practice banks (a test holds them to the targets below) and for
a course's private banks (``massage-course check-banks``). They measure form, not clinical content: that is the
reviewer's job.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass

from .quiz_bank import Item, Quiz

# The targets of issue 20 (an item-writing standard): each a bound a later edit must not cross.
MIN_ITEMS = 90
MIN_CASE_SHARE = 0.70
MAX_CUE_RATIO = 1.5
LETTER_SHARE = (0.15, 0.35)
MAX_LONGEST_KEY_SHARE = 0.30
MAX_STEM_SIMILARITY = 0.80

# A patient case names a person at the bedside: "Mr. T, 70,", "Mrs. L", "a 58-year-old", "the patient in room 9".
_CASE = re.compile(r"\b(Mr|Mrs|Ms|Mx)\.? [A-Z]\b|\b[A-Z], \d{1,3}\b|\b\d{1,3}-year-old\b|\bpatient\b|\broom \d+|"
                   r"\bbed \d+", re.I)
# Deferring wording: handing the decision to someone else instead of acting on what a therapist must know.
_DEFERRING = re.compile(r"\b(ask|asks|asking|tell|check with|checking with|consult|consulting|confirm with|"
                        r"confirming with|agree with|agreed with|as agreed|pass (it|the request) to|report)\b[^.;]{0,60}?"
                        r"\b(nurse|nurses|care team|team|provider|doctor|physician|supervisor|charge nurse)\b|"
                        r"\bcare team\b|\bpolic(y|ies)\b|\bconsult\b", re.I)
# Test-wise giveaways and trivia the standard forbids.
_FORBIDDEN = re.compile(r"\b(all|none) of the above\b|\bfact sheet|\bverification\b|\bV2\b|\bsecondary (book|source)\b"
                        r"|\bquotes\b", re.I)


def is_case(item: Item) -> bool:
    """Whether the item is a bedside case: a patient with something to decide about."""
    return bool(_CASE.search(item.stem))


def defers(text: str) -> bool:
    return bool(_DEFERRING.search(text))


def forbidden_wording(item: Item) -> list[str]:
    """The test-wise or trivia phrases in an item's stem and options."""
    texts = [item.stem, *item.choices.values()]
    return sorted({match.group(0) for text in texts for match in _FORBIDDEN.finditer(text)})


def key_is_longest(item: Item) -> bool:
    """The key is longer than every distractor (a classic cue: writers qualify the right answer)."""
    key = len(item.choices[item.answer].strip())
    return all(key > len(text.strip()) for letter, text in item.choices.items() if letter != item.answer)


def _normal(stem: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", stem.lower()).split())


def similar_stems(items: list[tuple[str, Item]], threshold: float = MAX_STEM_SIMILARITY) -> list[tuple[str, str, float]]:
    """Pairs of items (labelled ``quiz/id``) whose stems are near-duplicates."""
    texts = [(label, _normal(item.stem)) for label, item in items]
    pairs = []
    for i, (label_a, a) in enumerate(texts):
        for label_b, b in texts[i + 1:]:
            matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
            if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold:
                ratio = matcher.ratio()
                if ratio >= threshold:
                    pairs.append((label_a, label_b, round(ratio, 2)))
    return pairs


@dataclass(frozen=True)
class BankFigures:
    items: int
    choice_items: int
    case_share: float
    key_cue_share: float
    distractor_cue_share: float
    letter_shares: dict[str, float]
    longest_key_share: float
    similar: list[tuple[str, str, float]]
    forbidden: list[tuple[str, list[str]]]

    @property
    def cue_ratio(self) -> float:
        """How much more often keys defer than distractors do (1.0: no cue; inf when only keys defer)."""
        if self.distractor_cue_share == 0:
            return 0.0 if self.key_cue_share == 0 else float("inf")
        return self.key_cue_share / self.distractor_cue_share

    def problems(self) -> list[str]:
        """Every target missed, one plain line each (empty when the banks meet the standard)."""
        found = []
        if self.items < MIN_ITEMS:
            found.append(f"{self.items} graded items; at least {MIN_ITEMS} wanted")
        if self.case_share < MIN_CASE_SHARE:
            found.append(f"{self.case_share:.0%} of items are patient cases; at least {MIN_CASE_SHARE:.0%} wanted")
        if self.cue_ratio > MAX_CUE_RATIO:
            found.append(f"keys defer ('ask the nurse', 'care team', 'policy') {self.cue_ratio:.1f} times as often "
                         f"as distractors ({self.key_cue_share:.0%} against {self.distractor_cue_share:.0%}); "
                         f"at most {MAX_CUE_RATIO} wanted")
        low, high = LETTER_SHARE
        for letter, share in sorted(self.letter_shares.items()):
            if not low <= share <= high:
                found.append(f"the key is '{letter}' in {share:.0%} of items; {low:.0%}-{high:.0%} wanted")
        if self.longest_key_share > MAX_LONGEST_KEY_SHARE:
            found.append(f"the key is the longest option in {self.longest_key_share:.0%} of items; at most "
                         f"{MAX_LONGEST_KEY_SHARE:.0%} wanted")
        found += [f"{a} and {b} have near-duplicate stems ({ratio:.0%} alike)" for a, b, ratio in self.similar]
        found += [f"{label} uses {', '.join(repr(p) for p in phrases)}" for label, phrases in self.forbidden]
        return found


def measure(quizzes: list[Quiz]) -> BankFigures:
    """The figures over all items of ``quizzes`` together."""
    labelled = [(f"{quiz.id}/{item.id}", item) for quiz in quizzes for item in quiz.items]
    choice = [item for _, item in labelled if item.kind == "choice"]
    keys = [item.choices[item.answer] for item in choice]
    distractors = [text for item in choice for letter, text in item.choices.items() if letter != item.answer]
    letters = Counter(item.answer for item in choice)
    all_letters = sorted({letter for item in choice for letter in item.choices})
    share = (lambda part, whole: part / whole if whole else 0.0)
    return BankFigures(
        items=len(labelled), choice_items=len(choice),
        case_share=share(sum(is_case(item) for _, item in labelled), len(labelled)),
        key_cue_share=share(sum(map(defers, keys)), len(keys)),
        distractor_cue_share=share(sum(map(defers, distractors)), len(distractors)),
        letter_shares={letter: share(letters[letter], len(choice)) for letter in all_letters},
        longest_key_share=share(sum(map(key_is_longest, choice)), len(choice)),
        similar=similar_stems(labelled),
        forbidden=[(label, phrases) for label, item in labelled if (phrases := forbidden_wording(item))],
    )


def report(quizzes: list[Quiz]) -> str:
    """The figures as a few lines an instructor reads, per quiz and for all together."""
    lines = [f"{'quiz':<34} items  cases  key-defers  distractor-defers  key-longest"]
    for quiz in [*quizzes, None]:  # the last round measures all quizzes together: its figures are kept below
        figures = measure([quiz] if quiz else quizzes)
        name = quiz.id if quiz else "all quizzes"
        lines.append(f"{name:<34} {figures.items:>5}  {figures.case_share:>5.0%}  {figures.key_cue_share:>10.0%}  "
                     f"{figures.distractor_cue_share:>17.0%}  {figures.longest_key_share:>11.0%}")
    letters = "  ".join(f"{letter} {share:.0%}" for letter, share in figures.letter_shares.items())
    lines.append(f"keys by letter: {letters}; keys defer {figures.cue_ratio:.1f}x as often as distractors")
    problems = figures.problems()
    lines += (["", "Not yet to the standard:"] + [f"  - {p}" for p in problems]) if problems else ["", "Meets the standard."]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m massage_course.grading.bank_quality: the repository's practice banks
    from ..paths import COURSE_ROOT
    from .quiz_bank import load_quizzes

    print(report(list(load_quizzes(COURSE_ROOT).values())))
