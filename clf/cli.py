"""The `clf` command line: each command parses arguments, calls one library function and renders the result."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Annotated

import typer

from clf import console
from clf.errors import ClfError

app = typer.Typer(
    help="Label privacy-policy sentences with the 12 OPP-115 categories.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
annotations_app = typer.Typer(help="Check, count and compare the gold annotations.", no_args_is_help=True)
app.add_typer(annotations_app, name="annotations")
import_app = typer.Typer(help="Turn other corpora into clf training data (JSONL).", no_args_is_help=True)
app.add_typer(import_app, name="import")

_state = {"debug": False}


def _errors_as_one_line(command):
    """A ClfError becomes one line on stderr and a non-zero exit; --debug shows the traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ClfError as exc:
            if _state["debug"]:
                raise
            console.error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            console.error("interrupted; nothing was written")
            raise typer.Exit(130) from None

    return wrapper


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False) -> None:
    _state["debug"] = debug


ModelName = Annotated[
    str | None, typer.Option("--model", "-m", help="Config name: configs/NAME.yaml (tfidf, transformer).")
]
ConfigFile = Annotated[Path | None, typer.Option("--config", "-c", help="A config file instead of --model.")]
Overrides = Annotated[list[str] | None, typer.Option("--set", help="Override a config key, e.g. --set params.C=2.")]
DataPath = Annotated[Path, typer.Option("--data", "-d", help="A JSONL file or a folder of *.jsonl (top level).")]


def _config(model: str | None, config: Path | None, overrides: list[str] | None, seed: int | None = None):
    from clf.config import load_config

    if model and config:
        raise ClfError("give either --model or --config, not both")
    return load_config(model=model, path=config, overrides=overrides, seed=seed)


@app.command()
@_errors_as_one_line
def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write (replaced atomically).")],
    model: ModelName = None,
    config: ConfigFile = None,
    data: DataPath = Path("annotations"),
    seed: Annotated[int | None, typer.Option(help="Random seed (overrides the config).")] = None,
    overrides: Overrides = None,
) -> None:
    """Train a model from a config and write a model folder."""
    from clf.train import train as run

    cfg = _config(model or (None if config else "tfidf"), config, overrides, seed)
    with console.progress_bar(f"training {cfg.model}") as progress:
        result = run(cfg, data, out, progress)
    inner = result.info["inner_cv"]
    console.err.print(
        f"trained [bold]{cfg.model}[/] on {result.units} units in {result.seconds:.1f} s → {result.out}  "
        f"(inner-CV micro-F1 {inner['micro_f1']:.3f}, macro-F1 {inner['macro_f1']:.3f}; optimistic, see clf evaluate)"
    )


@app.command()
@_errors_as_one_line
def evaluate(
    model: ModelName = None,
    config: ConfigFile = None,
    data: DataPath = Path("annotations"),
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for metrics.json, predictions.jsonl, per_label.md.")
    ] = None,
    seeds: Annotated[str | None, typer.Option(help="Comma-separated seeds (default: the config's).")] = None,
    overrides: Overrides = None,
    model_dir: Annotated[
        Path | None, typer.Option("--model-dir", help="Score this trained model on --data instead.")
    ] = None,
    curve: Annotated[
        bool, typer.Option("--learning-curve", help="Also train on 1..k policies per held-out policy.")
    ] = False,
) -> None:
    """Leave-one-policy-out evaluation (or score a trained model with --model-dir)."""
    from clf import evaluate as ev
    from clf.data import load_dataset

    dataset = load_dataset(data)
    if model_dir is not None:
        from clf.predictor import Predictor

        evaluation = ev.score_predictor(Predictor.load(model_dir), dataset)
        title = f"{model_dir} on {data}"
    else:
        cfg = _config(model or (None if config else "tfidf"), config, overrides)
        seed_list = [int(s) for s in seeds.split(",")] if seeds else None
        with console.progress_bar("evaluating") as progress:
            evaluation = ev.cross_validate(cfg, dataset, seed_list, progress)
            if curve:
                evaluation.metrics["learning_curve"] = ev.learning_curve(cfg, dataset, progress=progress)
        seeds_used = evaluation.metrics["seeds"]
        title = f"{cfg.model}: leave-one-policy-out over {len(dataset.policies)} policies, seeds {seeds_used}"
    console.err.print(console.scores_table(evaluation.metrics, title))
    if out is not None:
        ev.write_report(evaluation, out)
        console.err.print(f"wrote {out}/metrics.json, predictions.jsonl, per_label.md")


@app.command()
@_errors_as_one_line
def predict(
    inputs: Annotated[
        list[str], typer.Argument(help="Policy files (.txt .md .html), .jsonl units, folders, or - for stdin.")
    ],
    model: Annotated[Path, typer.Option("--model", "-m", help="A model folder written by clf train.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="table | jsonl | csv | json (default table); ray: jsonl | parquet"),
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Write here (atomically) instead of stdout; ray: a folder/URI.")
    ] = None,
    summary: Annotated[
        bool, typer.Option("--summary", help="Per policy: categories, counts and best evidence.")
    ] = False,
    backend: Annotated[str, typer.Option(help="auto, or a model's engine (transformer: onnx | torch).")] = "auto",
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Model processes, one thread each (default: all cores).")
    ] = None,
    batch: Annotated[int, typer.Option(help="Units per committed batch (and JSONL records per chunk).")] = 1000,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run into the same --out from its last batch.")
    ] = False,
    engine: Annotated[str, typer.Option(help="local (this machine), or ray (Ray Data: a cluster or a local Ray).")] = (
        "local"
    ),
    address: Annotated[
        str | None, typer.Option(help="--engine ray: the cluster to join (default: start a local Ray).")
    ] = None,
) -> None:
    """Label policies sentence by sentence, with a probability for each of the 12 labels (streamed, in batches)."""
    if engine == "ray":
        from clf.ray_predict import predict_ray

        if out is None or summary or resume:
            raise ClfError("--engine ray writes unit records to --out (a folder or URI); no --summary or --resume")
        result = predict_ray(
            inputs, model, out, fmt=fmt or "jsonl", actors=workers, batch=batch, address=address, backend=backend
        )
        console.err.print(f"wrote {result.units:,} units to {out} in {result.seconds:.1f} s")
        return
    if engine != "local":
        raise ClfError(f"unknown --engine {engine!r}; use local or ray")
    fmt = fmt or "table"
    if fmt not in {"table", "jsonl", "csv", "json"}:
        raise ClfError(f"unknown --format {fmt!r}; use table, jsonl, csv or json")
    from clf.stream import run

    width = 160 if out is not None else shutil.get_terminal_size((160, 24)).columns  # files: a fixed width
    output = console.Output(fmt, summary, width)
    with console.stream_progress("labelling") as progress:
        result = run(
            inputs, model, output, out, workers=workers, batch=batch, resume=resume, backend=backend, progress=progress
        )
    if out is not None:
        resumed = f", {result.resumed_from:,} tasks from the interrupted run" if result.resumed_from else ""
        console.err.print(f"wrote {out}: {result.policies:,} policies, {result.units:,} units{resumed}")


@annotations_app.command("check")
@_errors_as_one_line
def annotations_check(
    paths: Annotated[list[Path] | None, typer.Argument(help="Gold files or folders (default: annotations/).")] = None,
) -> None:
    """Validate gold files: labels, ids, offsets, overlaps, coverage, JSON. Exit 1 on any problem."""
    from clf.annotations import check_paths

    problems = check_paths(paths or [Path("annotations")])
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        console.err.print(f"{len(problems)} problem(s)")
        raise typer.Exit(1)
    console.err.print("ok: no problems")


@annotations_app.command("stats")
@_errors_as_one_line
def annotations_stats(
    root: Annotated[Path, typer.Argument(help="The annotations folder.")] = Path("annotations"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Units and label counts per policy and overall; labels per unit; flagged units."""
    from clf.annotations import load_gold, stats
    from clf.report import stats_markdown

    result = stats(load_gold(root))
    typer.echo(json.dumps(result, indent=1, ensure_ascii=False) if as_json else stats_markdown(result))


@annotations_app.command("agreement")
@_errors_as_one_line
def annotations_agreement(
    folder: Annotated[Path, typer.Argument(help="Folder with first-pass.tsv and second-pass*.tsv.")] = Path(
        "annotations/agreement"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Cohen's kappa per label between the blind passes, with bootstrap 95% CI."""
    from clf.agreement import kappa_table, load_passes
    from clf.report import kappa_markdown

    table = kappa_table(*load_passes(folder))
    typer.echo(json.dumps(table, indent=1) if as_json else kappa_markdown(table))


@annotations_app.command("apply")
@_errors_as_one_line
def annotations_apply(
    sheet: Annotated[Path, typer.Argument(help="TSV sheet: id<TAB>codes[<TAB>flag<TAB>note].")],
    root: Annotated[Path, typer.Option(help="The annotations folder.")] = Path("annotations"),
    overwrite: Annotated[bool, typer.Option(help="Replace labels that differ (adjudication).")] = False,
) -> None:
    """Copy a person's typed label sheet into the gold files (a new policy's file once all its units are decided)."""
    from clf.annotate import apply_sheet_to_folder

    for policy, counts in apply_sheet_to_folder(sheet, root, overwrite).items():
        typer.echo(f"{policy}: {counts}")


@annotations_app.command("read")
@_errors_as_one_line
def annotations_read(
    policy: Annotated[str, typer.Argument(help="Policy slug: annotations/policies/SLUG.txt.")],
    root: Annotated[Path, typer.Option(help="The annotations folder.")] = Path("annotations"),
) -> None:
    """Print a policy's units as `id | labels | text` for a person to read and label (drafts if not yet gold)."""
    from clf.annotate import reading_sheet

    if not (root / "policies" / f"{policy}.txt").exists():
        raise ClfError(f"{root / 'policies' / (policy + '.txt')}: no such policy text")
    typer.echo(reading_sheet(policy, root), nl=False)


@annotations_app.command("split-score")
@_errors_as_one_line
def annotations_split_score(root: Annotated[Path, typer.Argument()] = Path("annotations")) -> None:
    """How many gold units the bare splitter reproduces exactly, per policy."""
    from clf.annotations import load_gold, split_score

    for policy, row in split_score(load_gold(root)).items():
        typer.echo(
            f"{policy}: {row['exact_units']}/{row['gold_units']} gold units exact "
            f"(precision {row['precision']:.3f}, recall {row['recall']:.3f})"
        )


@import_app.command("opp115")
@_errors_as_one_line
def import_opp115(
    corpus: Annotated[Path, typer.Argument(help="Root of your OPP-115 copy (sanitized_policies/, annotations/).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write (atomically).")],
    agreement: Annotated[
        str, typer.Option(help="majority (more than half the policy's annotators), union, or a number N.")
    ] = "majority",
    unit: Annotated[str, typer.Option(help="segment, or sentence (the project's splitter; labels from spans).")] = (
        "segment"
    ),
) -> None:
    """Import OPP-115 (non-commercial licence: bring your own copy) as records for `clf train --data`."""
    from clf.jsonl import write_jsonl
    from clf.opp115 import import_corpus

    with console.progress_bar("importing OPP-115") as progress:
        result = import_corpus(corpus, agreement, unit, progress)
    write_jsonl(out, result.records)
    console.err.print(console.import_table(result.summary(), f"OPP-115 → {out} ({unit}s, agreement {agreement})"))


def main() -> None:
    app()
