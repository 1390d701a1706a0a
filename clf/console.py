"""All terminal output: progress bars, tables and one-line errors. Library modules never print."""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from clf.jsonl import dumps
from clf.labels import CODE_OF, LABELS
from clf.metrics import format_score

if TYPE_CHECKING:
    from clf.documents import Document

err = Console(stderr=True, highlight=False)


def error(message: str) -> None:
    # escaped: messages quote the user's values, and "[low, high]" must not be read as markup
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)


def notice(message: str) -> None:
    """Something the user should know that is not an error (one line on stderr)."""
    err.print(f"[bold yellow]note:[/] {escape(message)}", markup=True, soft_wrap=True)


@contextmanager
def progress_bar(description: str = "working") -> Iterator[Any]:
    """A callback for library `progress` events: {"stage": ...} opens a bar, {"step", "total", "loss"} moves it."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[loss]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    started = time.perf_counter()
    with Progress(*columns, console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(event: dict[str, Any]) -> None:
            stage = event.get("stage", description)
            if stage not in tasks:
                for old in tasks.values():  # one live bar: the stage being worked on
                    bar.remove_task(old)
                tasks.clear()
                tasks[stage] = bar.add_task(stage, total=event.get("total"), loss="")
                elapsed = time.perf_counter() - started
                if not err.is_terminal and elapsed >= 2:  # a long job's log gets a line per stage instead of a bar
                    err.print(f"[{elapsed:7.1f} s] {stage}", highlight=False)
            task = tasks[stage]
            loss = f"loss {event['loss']:.4f}" if isinstance(event.get("loss"), float) else ""
            if "step" in event:
                bar.update(task, completed=event["step"], total=event.get("total"), loss=loss)

        yield update


@contextmanager
def stream_progress(description: str = "labelling") -> Iterator[Any]:
    """A callback for `clf.stream` events: policies and units done, units/s, and input bytes read (bar and ETA)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(description, total=None, detail="")
        start = time.monotonic()

        def update(event: dict[str, Any]) -> None:
            rate = event["new_units"] / max(time.monotonic() - start, 1e-9)
            detail = f"{event['policies']:,} policies · {event['units']:,} units · {rate:,.0f} units/s"
            bar.update(task, completed=event["step"], total=event.get("total"), detail=detail)

        yield update


def scores_table(metrics: dict[str, Any], title: str) -> Table:
    table = Table(title=title)
    for column in ("label", "code", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")

    for label in LABELS:
        row = metrics["per_label"][label]
        scores = [format_score(row[k]) for k in ("precision", "recall", "f1")]
        table.add_row(label, CODE_OF[label], *scores, str(row["support"]))
    summary = metrics.get("summary") or {m: metrics[m] for m in ("micro_f1", "macro_f1", "samples_f1")}
    table.caption = "  ".join(f"{k.replace('_', '-')} {format_score(v)}" for k, v in summary.items())
    if "paragraphs" in metrics:
        par = metrics["paragraphs"]
        table.caption += f"\nparagraphs ({par['units']}, fed whole): " + "  ".join(
            f"{k.replace('_', '-')} {format_score(v)}" for k, v in par["summary"].items()
        )
    return table


def units_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("id")
    table.add_column("labels")
    table.add_column("p", justify="right")
    table.add_column("text", overflow="fold")
    for row in rows:
        best = max(row["scores"][x] for x in row["labels"]) if row["labels"] else 0.0
        text = row.get("text", "")
        table.add_row(str(row.get("id", "")), ",".join(CODE_OF[x] for x in row["labels"]), f"{best:.2f}", text[:160])
    return table


def summary_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"{summary['policy']}: {summary['units']} units", show_lines=True)
    table.add_column("category")
    table.add_column("units", justify="right")
    table.add_column("most confident evidence", overflow="fold")
    for label, info in summary["categories"].items():
        evidence = "\n".join(f"[{e['score']:.2f}] {e['text'][:200]}" for e in info["evidence"])
        table.add_row(label, str(info["count"]), evidence)
    return table


def import_table(summary: dict[str, Any], title: str) -> Table:
    """What an import produced: records per label, and everything it skipped or dropped, with reasons."""
    table = Table(title=title)
    table.add_column("")
    table.add_column("count", justify="right")
    for key in ("policies", "segments", "records"):
        table.add_row(key, str(summary[key]))
    for label, count in summary["labels"].items():
        table.add_row(f"  {label}", str(count))
    for reason, count in sorted(summary["skipped"].items()):
        table.add_row(f"skipped: {reason}", str(count))
    table.add_row('dropped "Other" annotations (Other Type: Other)', str(summary["dropped_other_other"]))
    spans = summary["spans"]
    table.add_row(
        "spans at their offsets / found by their text / not found",
        f"{spans['exact']} / {spans['relocated']} / {spans['lost']}",
    )
    return table


def render_text(*renderables: Any, width: int | None = None) -> str:
    """Rich renderables as plain text: as wide as the terminal, or `width` columns (files)."""
    width = width or shutil.get_terminal_size((160, 24)).columns
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    for item in renderables:
        console.print(item)
    return console.file.getvalue()


def to_csv(rows: list[dict[str, Any]], header: bool = True) -> str:
    buffer = io.StringIO()
    fields = ["policy", "id", "start", "end", "text", "labels", *LABELS]
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({**row, "labels": ";".join(row["labels"]), **row["scores"]})
    return buffer.getvalue()


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(dumps(r) + "\n" for r in rows)


def _summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """A summary's evidence as CSV rows: one per (category, evidence unit)."""
    return [
        {
            "policy": summary["policy"],
            "id": e["id"],
            "text": e["text"],
            "labels": [label],
            "scores": {label: e["score"]},
        }
        for label, c in summary["categories"].items()
        for e in c["evidence"]
    ]


@dataclass(frozen=True)
class Output:
    """What `clf predict` writes, one document at a time: `head`, the items joined by `separator`, `tail`.

    Rendering happens wherever a document is labelled (in worker processes too), so the writer only
    concatenates. A JSON array is written item by item, byte for byte what `json.dumps(items, indent=1)` gives.
    """

    fmt: str = "table"
    summary: bool = False
    width: int = 160

    @property
    def per_unit(self) -> bool:
        """Every unit is a line of its own, so a JSONL input may be labelled in chunks of records."""
        return not self.summary and self.fmt in {"jsonl", "csv"}

    @property
    def head(self) -> str:
        return {"json": "[", "csv": to_csv([])}.get(self.fmt, "")

    @property
    def separator(self) -> str:
        return "," if self.fmt == "json" else ""

    @property
    def tail(self) -> str:
        return "\n]\n" if self.fmt == "json" else ""

    def render(self, doc: Document, rows: list[dict[str, Any]]) -> str:
        from clf.predict import summarize

        item: Any = summarize(doc, rows) if self.summary else rows
        if self.fmt == "json":
            item = item if self.summary else {"policy": doc.name, "source": doc.source, "units": rows}
            return "".join("\n " + line for line in json.dumps(item, ensure_ascii=False, indent=1).split("\n"))
        if self.fmt == "jsonl":
            return to_jsonl([item] if self.summary else rows)
        if self.fmt == "csv":
            return to_csv(_summary_rows(item) if self.summary else rows, header=False)
        table = summary_table(item) if self.summary else units_table(rows, doc.name)
        return render_text(table, width=self.width)
