"""The `clf` command line: each command parses arguments, calls one library function and renders the result."""

from __future__ import annotations

import functools
import json
import shutil
import sys
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


def _listed(text: str | None) -> list[str]:
    """A comma-separated option ("a, b,c") as its non-empty items."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def _config(model: str | None, config: Path | None, overrides: list[str] | None, seed: int | None = None):
    from clf.config import load_config

    if model and config:
        raise ClfError("give either --model or --config, not both")
    notices: list[str] = []
    cfg = load_config(model=model, path=config, overrides=overrides, seed=seed, notices=notices)
    for notice in notices:
        console.notice(notice)
    return cfg


@app.command()
@_errors_as_one_line
def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write (replaced atomically).")],
    model: ModelName = None,
    config: ConfigFile = None,
    data: DataPath = Path("annotations"),
    seed: Annotated[int | None, typer.Option(help="Random seed (overrides the config).")] = None,
    overrides: Overrides = None,
    policies: Annotated[
        str | None, typer.Option(help="Train on these policies only (comma-separated), e.g. the demo's.")
    ] = None,
) -> None:
    """Train a model from a config and write a model folder."""
    from clf.train import train as run

    cfg = _config(model or (None if config else "tfidf"), config, overrides, seed)
    chosen = _listed(policies) or None
    with console.progress_bar(f"training {cfg.model}") as progress:
        result = run(cfg, data, out, progress, chosen)
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
        bool,
        typer.Option("--learning-curve", help="Also train on 1, 2, 4, 8, 16 and all training policies per fold."),
    ] = False,
    split: Annotated[
        str, typer.Option(help="grouped (annotations/splits/folds.json), lopo (one policy out), or auto.")
    ] = "auto",
    policies: Annotated[
        str | None, typer.Option(help="Only these policies (comma-separated), e.g. the five seeds for LOPO.")
    ] = None,
    jobs: Annotated[
        int, typer.Option(min=1, help="Fits at a time, each in its own process with its share of the cores.")
    ] = 1,
) -> None:
    """Cross-validation by policy, nested (or score a trained model with --model-dir)."""
    from clf import evaluate as ev
    from clf.data import load_dataset
    from clf.outputs import check_output_folder

    dataset = load_dataset(data)
    if policies:
        dataset = dataset.only(_listed(policies))
    if out is not None:
        check_output_folder(out, dataset.files, ev.REPORT_FILES)
    if model_dir is not None:
        from clf.predictor import Predictor

        evaluation = ev.score_predictor(Predictor.load(model_dir), dataset)
        title = f"{model_dir} on {data}"
    else:
        cfg = _config(model or (None if config else "tfidf"), config, overrides)
        try:
            seed_list = [int(s) for s in seeds.split(",")] if seeds else None
        except ValueError:
            raise ClfError(f"--seeds takes comma-separated integers, e.g. 0,1,2, not {seeds!r}") from None
        with console.progress_bar("evaluating") as progress:
            evaluation = ev.cross_validate(cfg, dataset, seed_list, progress, split, jobs)
            if curve:
                evaluation.metrics["learning_curve"] = ev.learning_curve(cfg, dataset, progress=progress, split=split)
        protocol = evaluation.metrics["protocol"].split(";")[0]
        title = f"{cfg.model}: {protocol}, {len(dataset.policies)} policies, seeds {evaluation.metrics['seeds']}"
    console.err.print(console.scores_table(evaluation.metrics, title))
    for name, part in evaluation.parts.items():
        console.err.print(console.scores_table(part.metrics, f"{title}: its {name} member alone (same fits)"))
    if out is not None:
        ev.write_report(evaluation, out)
        parts = "".join(f", parts/{name}/" for name in evaluation.parts)
        console.err.print(f"wrote {out}/metrics.json, predictions.jsonl, per_label.md{parts}")


@app.command("learning-curve")
@_errors_as_one_line
def learning_curve(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="JSON file to write (atomically), e.g. reports/curves/NAME.json.")
    ],
    model: ModelName = None,
    config: ConfigFile = None,
    data: DataPath = Path("annotations"),
    overrides: Overrides = None,
    split: Annotated[str, typer.Option(help="grouped, lopo, or auto (as clf evaluate).")] = "auto",
    folds: Annotated[
        str | None, typer.Option(help="Only these outer folds (comma-separated), e.g. fold-1,fold-3.")
    ] = None,
    subsets: Annotated[int, typer.Option(min=1, help="Random training subsets per size and fold.")] = 2,
    sizes: Annotated[
        str, typer.Option(help="Numbers of training policies, comma-separated; 'all' = every other policy.")
    ] = "1,2,4,8,16,all",
) -> None:
    """Macro-F1 on held-out folds when training on 1, 2, 4, 8, 16 and all the other policies (nested as evaluate)."""
    from clf import evaluate as ev
    from clf.data import load_dataset
    from clf.jsonl import write_text_atomic
    from clf.outputs import check_output_file

    dataset = load_dataset(data)
    check_output_file(out, dataset.files)
    cfg = _config(model or (None if config else "tfidf"), config, overrides)
    names = [f.strip() for f in folds.split(",")] if folds else None
    wanted = _listed(sizes)
    if not wanted or not all(s == "all" or (s.isdigit() and int(s) > 0) for s in wanted):
        raise ClfError(f"--sizes takes positive integers and 'all', comma-separated, e.g. 1,2,4,all; not {sizes!r}")
    numbers = tuple(sorted({int(s) for s in wanted if s != "all"}))
    with console.progress_bar("learning curve") as progress:
        every = "all" in wanted
        rows = ev.learning_curve(
            cfg, dataset, subsets, progress=progress, split=split, sizes=numbers, folds=names, include_all=every
        )
    write_text_atomic(
        out, json.dumps({"model": cfg.model, "config": cfg.model_dump(), "learning_curve": rows}, indent=1)
    )
    console.err.print(f"wrote {out}: {len(rows)} trainings")


def _label_all(predictor, items: list) -> list:
    """Read and label every input (a progress bar when there are several), before anything is written."""
    from clf import documents
    from clf.predict import predict_all

    if len(items) == 1:
        return predict_all(predictor, items, documents.read_input)
    with console.progress_bar("labelling") as progress:
        done = iter(range(1, len(items) + 1))
        return predict_all(
            predictor, items, documents.read_input, lambda: progress({"step": next(done), "total": len(items)})
        )


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


@app.command()
@_errors_as_one_line
def report(
    inputs: Annotated[list[str], typer.Argument(help="Policy files (.txt .md .html .jsonl), folders, or - for stdin.")],
    model: Annotated[Path, typer.Option("--model", "-m", help="A model folder written by clf train.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The report file; a folder when there are several policies.")
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="html | json (the same content as data)")] = "html",
    margin: Annotated[
        float, typer.Option(help="Low confidence: the best label clears its threshold by less than this.")
    ] = 0.1,
    backend: Annotated[str, typer.Option(help="auto, or a model's engine (transformer: onnx | torch).")] = "auto",
) -> None:
    """A self-contained HTML page per policy: its text with every unit's labels, and what it says per category."""
    from clf import documents
    from clf.jsonl import write_text_atomic
    from clf.predictor import Predictor
    from clf.views.report import policy_report, report_files

    if fmt not in {"html", "json"}:
        raise ClfError(f"unknown --format {fmt!r}; use html or json")
    if not 0 <= margin <= 1:
        raise ClfError(f"--margin {margin} is not a probability margin between 0 and 1")
    items = list(documents.iter_paths(inputs))
    folder = len(items) > 1 or any(item != "-" and Path(item).is_dir() for item in inputs)
    predictor = Predictor.load(model, backend)
    reports = [policy_report(doc, rows, predictor, model, margin) for doc, rows in _label_all(predictor, items)]
    files = report_files(reports, out, fmt, folder)
    for path, text in files.items():
        write_text_atomic(path, text)
    console.err.print(f"wrote {len(reports)} reports and {path}" if folder else f"wrote {out}")


@app.command()
@_errors_as_one_line
def diff(
    old: Annotated[str, typer.Argument(help="The old version of a policy (.txt .md .html .jsonl).")],
    new: Annotated[str, typer.Argument(help="The new version.")],
    model: Annotated[Path, typer.Option("--model", "-m", help="A model folder written by clf train.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json | html")] = "table",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here (atomically) instead of stdout.")] = None,
    threshold: Annotated[
        float, typer.Option(help="Word similarity from which two units count as one changed unit.")
    ] = 0.5,
    backend: Annotated[str, typer.Option(help="auto, or a model's engine (transformer: onnx | torch).")] = "auto",
) -> None:
    """What changed between two versions of a policy, per category: units added, removed and changed."""
    from clf import documents
    from clf.errors import DataError
    from clf.jsonl import write_text_atomic
    from clf.predictor import Predictor
    from clf.views import diff as views
    from clf.views.report import refuse_overwriting_inputs

    if fmt not in {"table", "json", "html"}:
        raise ClfError(f"unknown --format {fmt!r}; use table, json or html")
    if not 0 < threshold <= 1:
        raise ClfError(f"--threshold {threshold} is not a similarity between 0 (exclusive) and 1")
    for item in (old, new):
        if item != "-" and Path(item).is_dir():
            raise DataError("is a folder; clf diff compares two policy files", item)
    if out is not None:
        refuse_overwriting_inputs([out], [old, new])
    docs = [documents.read_input(item) for item in documents.iter_paths([old, new])]
    predictor = Predictor.load(model, backend)
    result = views.diff_documents(predictor, model, *docs, threshold=threshold)
    text = {
        "table": views.render_text,
        "json": lambda d: json.dumps(d, ensure_ascii=False, indent=1) + "\n",
        "html": views.render_diff,
    }[fmt](result)
    if out is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(out, text)
        console.err.print(f"wrote {out}" + ("" if result["changes"] else " (no changes)"))


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
    blind: Annotated[bool, typer.Option(help="Hide the labels (for a blind second pass).")] = False,
) -> None:
    """Print a policy's units as `id | labels | text` for a person to read and label (drafts if not yet gold)."""
    from clf.annotate import reading_sheet

    if not (root / "policies" / f"{policy}.txt").exists():
        raise ClfError(f"{root / 'policies' / (policy + '.txt')}: no such policy text")
    typer.echo(reading_sheet(policy, root, blind), nl=False)


@annotations_app.command("sample")
@_errors_as_one_line
def annotations_sample(
    out: Annotated[Path, typer.Argument(help="New folder for the second-pass package (never overwritten).")],
    whole: Annotated[str, typer.Option(help="Policies taken whole, comma-separated.")],
    fraction: Annotated[float, typer.Option(help="Systematic share of every other policy's units.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the draw's offsets and shuffle.")] = 0,
    policies: Annotated[str | None, typer.Option(help="Draw only from these policies (comma-separated).")] = None,
    parts: Annotated[int, typer.Option(help="Split the drawn units into this many item lists.")] = 1,
    root: Annotated[Path, typer.Option(help="The annotations folder.")] = Path("annotations"),
) -> None:
    """Draw a blind double-annotation sample: whole policies plus a systematic share of the others."""
    from clf.agreement import write_blind_sample

    names = [p.strip() for p in policies.split(",")] if policies else None
    info = write_blind_sample(root, out, [w.strip() for w in whole.split(",")], fraction, seed, names, parts)
    typer.echo(json.dumps(info, indent=1))


@annotations_app.command("resplit")
@_errors_as_one_line
def annotations_resplit(
    policy: Annotated[str, typer.Argument(help="Policy slug whose units the splitter now cuts differently.")],
    sheet: Annotated[
        Path | None, typer.Option(help="TSV decisions for every merged unit (by its new id); without it, just show.")
    ] = None,
    root: Annotated[Path, typer.Option(help="The annotations folder.")] = Path("annotations"),
) -> None:
    """Carry a policy's gold over to the splitter's current units; merged units need a person's labels."""
    from clf.annotate import parse_sheet, resplit
    from clf.labels import CODE_OF

    result = resplit(policy, root, parse_sheet(sheet) if sheet else None)
    for unit in result["changed"]:
        typer.echo(f"{unit['id']} | {unit['text']}")
        for piece in unit["pieces"]:
            typer.echo(f"    was {piece['id']} | {','.join(CODE_OF[x] for x in piece['labels'])} | {piece['text']}")
    state = "written" if result["written"] else f"{len(result['undecided'])} merged unit(s) undecided; nothing written"
    console.err.print(f"{policy}: {len(result['changed'])} unit(s) changed; {state}")


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
    from clf.outputs import check_output_file

    check_output_file(out, [])
    with console.progress_bar("importing OPP-115") as progress:
        result = import_corpus(corpus, agreement, unit, progress)
    check_output_file(out, result.files)
    write_jsonl(out, result.records)
    console.err.print(console.import_table(result.summary(), f"OPP-115 → {out} ({unit}s, agreement {agreement})"))


def main() -> None:
    app()
