"""The instructor's `report` command: grades as CSV, and how the cohort and each question performed.

Item analysis as in classical test theory: difficulty (the share of points earned), corrected item-total
discrimination (the correlation of an item with the total of the *other* items), KR-20 reliability of the
multiple-choice part, the count of trainees who chose each option, and mastery per learning objective.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .quiz_bank import Quiz, objective_text
from .results import TraineeResult, load_results
from .trainee_text import without_controls


def kr20(scores: pd.DataFrame) -> float:
    """Kuder-Richardson 20 for right/wrong items (rows trainees, columns items, values 0 or 1).

    KR-20 = k/(k-1) * (1 - sum(p*q) / variance of total scores), population variances throughout; it equals
    Cronbach's alpha for 0/1 items. NaN when it is undefined (fewer than 2 items or trainees, or no spread in totals).
    """
    k, n = scores.shape[1], scores.shape[0]
    if k < 2 or n < 2:
        return math.nan
    p = scores.mean(axis=0)
    total_variance = scores.sum(axis=1).var(ddof=0)
    if total_variance == 0:
        return math.nan
    return float(k / (k - 1) * (1 - (p * (1 - p)).sum() / total_variance))


def corrected_item_total(scores: pd.DataFrame) -> pd.Series:
    """Each item's Pearson correlation with the sum of the other items (NaN where either has no spread)."""
    values = {}
    for column in scores.columns:
        item, rest = scores[column], scores.drop(columns=column).sum(axis=1)
        if item.nunique() < 2 or rest.nunique() < 2:
            values[column] = math.nan
        else:
            values[column] = float(stats.pearsonr(item, rest).statistic)
    return pd.Series(values)


def score_table(quiz: Quiz, trainees: list[TraineeResult]) -> pd.DataFrame:
    """Share of each item's points earned, per trainee (rows) and item (columns); NaN where not graded yet."""
    graded = [t for t in trainees if t.items]
    return pd.DataFrame(
        [[np.nan if t.items[i.id].score is None else t.items[i.id].score / i.points for i in quiz.items] for t in graded],
        index=[t.student for t in graded], columns=[i.id for i in quiz.items], dtype=float)


def item_analysis(quiz: Quiz, trainees: list[TraineeResult]) -> tuple[pd.DataFrame, float]:
    """One row per item: difficulty, corrected item-total discrimination, option counts; and KR-20 of the MC items.

    Before the written answers are graded by hand, discrimination and KR-20 are computed from the multiple-choice
    items alone (every trainee whose choices are graded), rather than left blank; ``waiting_for_hand_grading`` says
    how many written answers are still to grade."""
    table = score_table(quiz, trainees)
    choice_ids = [i.id for i in quiz.items if i.kind == "choice"]
    complete = table.dropna()  # trainees with every item graded
    choices_graded = table[choice_ids].dropna()
    points = pd.Series({i.id: float(i.points) for i in quiz.items})
    # the total that an item is correlated with counts points, as the quiz does
    if len(complete) >= 3 and len(complete) == len(choices_graded):
        discrimination = corrected_item_total(complete * points)
    elif len(choices_graded) >= 3:  # written answers not graded yet: the multiple-choice part on its own
        discrimination = corrected_item_total(choices_graded * points[choice_ids])
    else:
        discrimination = pd.Series(dtype=float)
    rows = []
    for item in quiz.items:
        row = {"item": item.id, "question": quiz.number(item), "kind": item.kind, "points": item.points,
               "objectives": " ".join(item.objectives), "answer": item.answer or "",
               "trainees": int(table[item.id].notna().sum()),
               "difficulty": table[item.id].mean(), "discrimination": discrimination.get(item.id, math.nan)}
        if item.kind == "choice":
            chosen = [t.items[item.id].choice for t in trainees if t.items]
            for letter in item.letters:
                row[f"chose_{letter}"] = chosen.count(letter)
            row["no_answer"] = chosen.count("")
            row["unreadable"] = chosen.count(None)
        rows.append(row)
    table_out = pd.DataFrame(rows)
    counts = [c for c in table_out.columns if c.startswith("chose_") or c in ("no_answer", "unreadable")]
    table_out[counts] = table_out[counts].astype("Int64")  # counts stay whole numbers (blank for the written items)
    table_out.attrs["waiting_for_hand_grading"] = int(table.drop(columns=choice_ids).isna().sum().sum())
    return table_out, kr20(choices_graded) if len(choices_graded) else math.nan


def objective_mastery(quiz: Quiz, trainees: list[TraineeResult]) -> pd.DataFrame:
    """Per learning objective: the cohort's share of the points on its items, and how many trainees reached the pass
    mark on them (points-weighted across the objective's items)."""
    table = score_table(quiz, trainees)
    points = pd.Series({i.id: i.points for i in quiz.items})
    rows = []
    for tag in sorted({t for i in quiz.items for t in i.objectives}, key=lambda t: (t.split(":")[0], int(t.split(":")[1]))):
        ids = [i.id for i in quiz.items if tag in i.objectives]
        earned = (table[ids] * points[ids]).sum(axis=1, min_count=len(ids)) / points[ids].sum()
        earned = earned.dropna()
        rows.append({"objective": tag, "text": objective_text(tag), "items": " ".join(ids),
                     "mastery": earned.mean() if len(earned) else math.nan,
                     "trainees_at_pass_mark": int((earned * 100 >= quiz.pass_mark - 1e-9).sum()),
                     "trainees": int(len(earned))})
    return pd.DataFrame(rows)


def grades_table(quiz: Quiz, trainees: list[TraineeResult]) -> pd.DataFrame:
    rows = []
    for t in trainees:
        passed = t.passed(quiz)
        rows.append({"trainee": without_controls(t.student, one_line=True), "status": t.status, "score": t.score,
                     "max_score": t.max_score, "percent": None if t.percent is None else round(t.percent, 1),
                     "passed": {True: "yes", False: "no", None: ""}[passed],
                     "problems": " | ".join(without_controls(p, one_line=True) for p in t.problems)})
    return pd.DataFrame(rows)


def report_figures(quiz: Quiz, grades: pd.DataFrame, items: pd.DataFrame, mastery: pd.DataFrame) -> dict:
    """Three matplotlib figures by file-name suffix: the score distribution, item difficulty against discrimination,
    mastery per objective. Their colours meet WCAG contrast (tests/test_plot_contrast.py)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = {}
    percents = grades["percent"].dropna().astype(float)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(percents, bins=range(0, 105, 5), color="#1f5f99", edgecolor="white")
    ax.axvline(quiz.pass_mark, color="#a0161b", linestyle="--", label=f"pass mark {quiz.pass_mark}%")
    ax.set(xlabel="Score (% of points)", ylabel="Trainees", title=f"{quiz.id}: scores of {len(percents)} trainees")
    ax.legend()
    figures["scores"] = fig

    fig, ax = plt.subplots(figsize=(7, 5))
    ax.scatter(items["difficulty"], items["discrimination"], color="#1f5f99")
    for _, row in items.iterrows():
        ax.annotate(f"Q{row['question']}", (row["difficulty"], row["discrimination"]), textcoords="offset points",
                    xytext=(4, 4))
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set(xlim=(-0.05, 1.05), xlabel="Difficulty (share of points earned; higher is easier)",
           ylabel="Discrimination (corrected item-total r)", title=f"{quiz.id}: how each question performed")
    figures["items"] = fig

    fig, ax = plt.subplots(figsize=(7, 0.4 * len(mastery) + 1.5))
    ax.barh(mastery["objective"], mastery["mastery"] * 100, color="#1f5f99")
    ax.axvline(quiz.pass_mark, color="#a0161b", linestyle="--", label=f"pass mark {quiz.pass_mark}%")
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="Cohort's share of the objective's points (%)",
           title=f"{quiz.id}: mastery per learning objective")
    ax.legend(loc="lower right")
    figures["objectives"] = fig
    return figures


def plot_report(quiz: Quiz, grades: pd.DataFrame, items: pd.DataFrame, mastery: pd.DataFrame, folder: Path) -> list[Path]:
    """The report's figures as PNG files in ``folder``."""
    import matplotlib.pyplot as plt

    paths = []
    for suffix, fig in report_figures(quiz, grades, items, mastery).items():
        paths.append(folder / f"{quiz.id}-{suffix}.png")
        fig.tight_layout()
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


def write_report(course: str | Path, quiz_id: str) -> dict:
    """Write reports/<quiz>-grades.csv, -items.csv, -objectives.csv, -summary.json and three plots; return the summary."""
    course = Path(course).resolve()
    quiz, trainees = load_results(course, quiz_id)
    folder = course / "reports"
    folder.mkdir(exist_ok=True)
    grades = grades_table(quiz, trainees)
    items, reliability = item_analysis(quiz, trainees)
    mastery = objective_mastery(quiz, trainees)
    files = {"grades": folder / f"{quiz_id}-grades.csv", "items": folder / f"{quiz_id}-items.csv",
             "objectives": folder / f"{quiz_id}-objectives.csv"}
    grades.to_csv(files["grades"], index=False)
    items.to_csv(files["items"], index=False, float_format="%.3f")
    mastery.to_csv(files["objectives"], index=False, float_format="%.3f")
    plots = plot_report(quiz, grades, items, mastery, folder) if len(grades["percent"].dropna()) else []
    counts = grades["status"].value_counts().to_dict()
    summary = {
        "quiz": quiz_id, "trainees": len(trainees), "status": counts,
        "passed": int((grades["passed"] == "yes").sum()), "pass_mark": quiz.pass_mark,
        "mean_percent": None if grades["percent"].dropna().empty else round(float(grades["percent"].dropna().mean()), 1),
        "kr20": None if math.isnan(reliability) else round(reliability, 3),
        "waiting_for_hand_grading": items.attrs["waiting_for_hand_grading"],
        "files": [str(p) for p in [*files.values(), *plots]],
    }
    (folder / f"{quiz_id}-summary.json").write_text(json.dumps(summary, indent=2))
    return summary | {"items_table": items, "objectives_table": mastery}
