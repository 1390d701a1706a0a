"""Label inputs of any size in bounded memory: read lazily, label in batches (in N processes), write as it goes.

Inputs become small tasks, read in order: one policy file, or a chunk of `batch` records of a JSONL file
or stream (formats with one line per unit only; the others need whole documents). At most a few tasks per
worker are in flight, so memory depends on the batch size, not on the input. Each worker process loads the
model once with one intra-op thread; results are written in task order, so the output is the same for any
number of workers.

With `out`, results go to `OUT.partial`, renamed to OUT once complete (an interrupted run never leaves a
partial OUT), and every committed batch appends to the progress log `OUT.progress.jsonl`: the partial
file's size and how many tasks it holds. `resume=True` cuts the partial file back to the last committed
batch and skips those tasks, which gives the same bytes as an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol

from clf import documents
from clf.documents import Document
from clf.errors import ClfError, DataError
from clf.models.base import Progress, available_cores, set_inference_threads
from clf.outputs import check_output_file
from clf.predict import predict_document
from clf.predictor import Predictor

IN_FLIGHT_PER_WORKER = 4
POOL_MIN_BYTES = 1 << 20  # by default, smaller jobs run in this process: starting workers would cost more


class Output(Protocol):
    """How results are written (`clf.console.Output`): picklable, so workers render what they label."""

    per_unit: bool
    head: str
    separator: str
    tail: str

    def render(self, doc: Document, rows: list[dict[str, Any]]) -> str: ...


@dataclass(frozen=True)
class Task:
    """One unit of work, small enough to send to a worker: a file to read, or lines / bytes already read."""

    source: str
    size: int  # input bytes, for progress
    first_line: int = 0  # > 0: a chunk of JSONL lines starting at this line
    lines: tuple[str, ...] = ()
    data: bytes | None = None  # standard input, read whole (policy text)

    @property
    def key(self) -> str:
        return f"{self.source}:{self.first_line}" if self.first_line else self.source

    def read(self) -> Document:
        if self.data is not None:
            return documents.parse_stdin(self.data)
        if self.first_line:
            name = "stdin" if self.source == "-" else Path(self.source).stem
            return Document(
                name, self.source, records=documents.jsonl_records(list(self.lines), self.source, self.first_line)
            )
        return documents.read_file(Path(self.source))


def _chunks(handle: BinaryIO, source: str, size: int) -> Iterator[Task]:
    for first, lines, nbytes in documents.jsonl_chunks(handle, source, size):
        yield Task(source, nbytes, first, tuple(lines))


def _stdin_tasks(stdin: BinaryIO, chunk: int | None) -> Iterator[Task]:
    """JSONL on standard input is read line by line (when `chunk`); policy text is read whole."""
    head: list[bytes] = []
    for line in stdin:
        head.append(line)
        if line.strip():
            break
    if chunk and head and head[-1].lstrip(b"\xef\xbb\xbf \t").startswith(b"{"):
        yield from _chunks(itertools.chain(head, stdin), "-", chunk)  # type: ignore[arg-type]
    else:
        data = b"".join(head) + stdin.read()
        yield Task("-", len(data), data=data)


def tasks(inputs: list[str], chunk: int | None, stdin: BinaryIO | None = None) -> Iterator[Task]:
    """The tasks of a job, in output order; `chunk` records per JSONL task (None: whole files)."""
    for item in documents.iter_paths(inputs):
        if item == "-":
            yield from _stdin_tasks(stdin or sys.stdin.buffer, chunk)
            continue
        path = Path(item)
        if chunk and path.suffix.lower() == ".jsonl":
            try:
                handle = path.open("rb")
            except OSError as exc:
                raise DataError(f"cannot read ({exc.strerror})", path) from None
            with handle:
                yield from _chunks(handle, str(path), chunk)
        else:
            yield Task(str(path), path.stat().st_size)


# ------------------------------------------------------------------ labelling (in this process or a worker)
_worker: dict[str, Any] = {}


def _start(model: str, backend: str, threads: int | None, output: Output) -> None:
    """Load the model once per process; a load error is kept and raised by the first task (one-line error)."""
    set_inference_threads(threads)
    _worker.clear()
    _worker["output"] = output
    try:
        _worker["predictor"] = Predictor.load(model, backend)
    except ClfError as exc:
        _worker["error"] = exc


def _start_worker(model: str, backend: str, threads: int | None, output: Output) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _start(model, backend, threads, output)


def _label(task: Task) -> tuple[int, str]:
    if "error" in _worker:
        raise _worker["error"]
    doc = task.read()
    rows = predict_document(_worker["predictor"], doc)
    return len(rows), _worker["output"].render(doc, rows)


def _labelled(
    work: Iterator[Task], model: Path, backend: str, output: Output, workers: int, threads: int | None
) -> Iterator[tuple[Task, int, str]]:
    """(task, units, rendered text) in task order, from this process (`threads`) or `workers` processes."""
    ahead = list(itertools.islice(work, max(2, workers)))
    work = itertools.chain(ahead, work)
    if len(ahead) <= 1 or workers == 1:
        _start(str(model), backend, None if len(ahead) <= 1 else threads, output)  # one input: every core
        try:
            for task in work:
                yield (task, *_label(task))
        finally:
            _worker.clear()
            set_inference_threads(None)
        return

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    processes = min(workers, len(ahead))
    pool = ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(str(model), backend, 1, output),
    )
    window: deque = deque()
    try:
        for task in work:
            window.append((task, pool.submit(_label, task)))
            if len(window) >= IN_FLIGHT_PER_WORKER * processes:
                done, future = window.popleft()
                yield (done, *future.result())
        while window:
            done, future = window.popleft()
            yield (done, *future.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------------ writing, committing, resuming
def side_files(out: Path) -> tuple[Path, Path]:
    """The partial output and the progress log beside `out`."""
    return out.with_name(out.name + ".partial"), out.with_name(out.name + ".progress.jsonl")


def _model_id(model: Path) -> str:
    digest = hashlib.sha256()
    for name in ("model.json", "training.json", "thresholds.json"):
        if (model / name).is_file():
            digest.update((model / name).read_bytes())
    return digest.hexdigest()


def _read_log(log: Path, job: dict[str, Any]) -> dict[str, Any]:
    """The last committed batch of an interrupted run of the same job."""
    if not log.is_file():
        raise ClfError(f"nothing to resume: no progress log {log}")
    entries = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:  # a last line cut short by the interruption
            break
    if not entries or entries[0].get("job") != job:
        raise ClfError(
            f"{log}: written by a different job (inputs, model, format or batch differ); run without --resume"
        )
    return entries[-1] if len(entries) > 1 else dict.fromkeys((*_COUNTS, "out_bytes"), 0)


@dataclass
class StreamResult:
    policies: int = 0  # whole documents (JSONL chunks are counted in units only)
    units: int = 0
    tasks: int = 0
    in_bytes: int = 0
    resumed_from: int = 0  # tasks skipped because an interrupted run had committed them
    seconds: float = 0.0


_COUNTS = ("policies", "units", "tasks", "in_bytes")


class _Writer:
    """Appends rendered text; with a progress log, commits every batch (data synced before its log line)."""

    def __init__(self, sink: IO[Any], log: IO[str] | None, result: StreamResult):
        self.sink, self.log, self.result = sink, log, result

    def write(self, text: str) -> None:
        if self.log is None:
            self.sink.write(text)
        else:
            self.sink.write(text.encode("utf-8"))

    def commit(self, last: str, complete: bool = False) -> None:
        self.sink.flush()
        if self.log is None:
            return
        os.fsync(self.sink.fileno())
        entry = {k: v for k, v in asdict(self.result).items() if k in _COUNTS}
        self.log.write(json.dumps({**entry, "out_bytes": self.sink.tell(), "last": last, "complete": complete}) + "\n")
        self.log.flush()
        os.fsync(self.log.fileno())


def _skip(work: Iterator[Task], done: dict[str, Any], result: StreamResult) -> None:
    """Pass over the tasks an interrupted run committed; the last one must be the task it logged."""
    skipped = deque(itertools.islice(work, done["tasks"]), maxlen=1)
    if done["tasks"] and (not skipped or skipped[0].key != done["last"]):
        raise ClfError(
            f"the inputs changed since the interrupted run (its batch ended at {done['last']}); run without --resume"
        )
    for key in _COUNTS:
        setattr(result, key, done[key])
    result.resumed_from = done["tasks"]


def run(
    inputs: list[str],
    model: str | Path,
    output: Output,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    batch: int = 1000,
    resume: bool = False,
    backend: str = "auto",
    progress: Progress | None = None,
    stdin: BinaryIO | None = None,
    stdout: IO[str] | None = None,
) -> StreamResult:
    """Label `inputs` (files, folders, "-") into `out` (atomically) or `stdout`, `batch` units per commit."""
    if batch < 1:
        raise ClfError("--batch must be at least 1")
    if resume and out is None:
        raise ClfError("--resume needs --out (the progress log lives beside it)")
    model = Path(model)
    paths = list(documents.iter_paths(inputs))  # checks every path first
    if out is not None:
        check_output_file(out, paths)  # never over an input
    total = sum(Path(p).stat().st_size for p in paths if p != "-")
    has_stdin = "-" in inputs
    threads: int | None = 1  # each model process: one intra-op thread
    if workers is None:  # all cores: N processes for a big job, N threads in this one for a small one
        workers, threads = (available_cores(), 1) if has_stdin or total >= POOL_MIN_BYTES else (1, None)
    job = {
        "inputs": [i if i == "-" else str(Path(i).resolve()) for i in inputs],
        "model": str(model.resolve()),
        "model_id": _model_id(model),
        "backend": backend,
        "output": repr(output),
        "batch": batch,
    }
    result = StreamResult()
    start = time.monotonic()
    work = tasks(inputs, batch if output.per_unit else None, stdin)
    partial, log_path = side_files(Path(out)) if out is not None else (None, None)
    done = _read_log(log_path, job) if resume and log_path else None
    if done and done.get("complete"):  # interrupted between the last commit and the rename
        os.replace(partial, out)
        log_path.unlink()
        return StreamResult(**{k: done[k] for k in _COUNTS}, resumed_from=done["tasks"])
    if done:
        _skip(work, done, result)
    labelled = _labelled(work, model, backend, output, workers, threads)

    first = next(labelled, None)  # nothing is created before one task has been labelled (bad model, bad input)
    sink: Any
    log = None
    if partial is None:
        sink = stdout or sys.stdout
    elif done:
        sink = partial.open("r+b")
        sink.truncate(done["out_bytes"])
        sink.seek(done["out_bytes"])
        log = log_path.open("a", encoding="utf-8")
    else:
        partial.parent.mkdir(parents=True, exist_ok=True)
        sink = partial.open("wb")
        log = log_path.open("w", encoding="utf-8")
        log.write(json.dumps({"job": job}) + "\n")
    writer = _Writer(sink, log, result)
    try:
        if not done:
            writer.write(output.head)
        pending, last = 0, done["last"] if done else ""
        for task, units, text in itertools.chain([first] if first else [], labelled):
            if result.tasks and output.separator:
                writer.write(output.separator)
            writer.write(text)
            result.tasks += 1
            result.units += units
            result.in_bytes += task.size
            result.policies += 0 if task.first_line else 1
            pending, last = pending + units, task.key
            if pending >= batch:
                writer.commit(task.key)
                pending = 0
            if progress:
                new_units = result.units - (done["units"] if done else 0)
                step = {"step": result.in_bytes, "total": None if has_stdin else total, "new_units": new_units}
                progress({**step, "policies": result.policies, "units": result.units})
        writer.write(output.tail)
        writer.commit(last, complete=True)
    finally:
        labelled.close()
        if partial is not None:
            sink.close()
            log.close()
    if partial is not None:
        os.replace(partial, out)
        log_path.unlink()
    result.seconds = time.monotonic() - start
    return result
