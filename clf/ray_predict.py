"""The streaming job on Ray Data (`clf predict --engine ray`): a laptop's local Ray or a cluster, same command.

Reads JSONL records (one row per line) or policy files (one row per file) from local paths or any URI
Ray can read (`s3://`, `gs://`, ...), labels them in a pool of actors that each load the model once
(shipped from the driver; a transformer runs on its ONNX graph, without torch) through
`clf.predict.predict_document`, and writes JSONL or Parquet shards, one record per unit with the fields
of the local engine. Order is preserved, so the shards read in name order equal the local engine's output.

This is the only module that imports ray, and only `--engine ray` imports it.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import ray
from ray.data.block import BlockAccessor
from ray.data.datasource import BlockBasedFileDatasink

from clf import documents, errors
from clf.documents import Document
from clf.errors import ClfError, DataError
from clf.jsonl import dumps
from clf.labels import LABELS
from clf.models.base import available_cores, set_inference_threads
from clf.predict import predict_document
from clf.predictor import Predictor

TEXT_EXTENSIONS = sorted(s.lstrip(".") for s in documents.TEXT_SUFFIXES)
UNITS_PER_POLICY = 150  # to size batches of policy files by units


@dataclass
class RayResult:
    units: int
    seconds: float  # the whole job, Ray's start-up included
    startup_seconds: float  # ray.init


def _is_uri(path: str) -> bool:
    return "://" in path


def _list(inputs: list[str]) -> list[str]:
    """Every file to read, in the local engine's order; a folder URI is listed with its pyarrow filesystem."""
    from pyarrow import fs

    files: list[str] = []
    for item in inputs:
        if not _is_uri(item):
            files.extend(str(Path(p).resolve()) for p in documents.iter_paths([item]))
            continue
        filesystem, root = fs.FileSystem.from_uri(item)
        info = filesystem.get_file_info(root)
        scheme = item.split("://", 1)[0]
        if info.type == fs.FileType.Directory:
            found = filesystem.get_file_info(fs.FileSelector(root, recursive=True))
            names = sorted(f.path for f in found if f.is_file and Path(f.path).suffix.lower() in documents.SUPPORTED)
            files.extend(f"{scheme}://{name}" for name in names)
        elif info.type == fs.FileType.File:
            files.append(item)
        else:
            raise ClfError(f"{item}: not found")
    if not files:
        raise ClfError("no supported files in the inputs")
    return files


def _model_files(folder: Path, backend: str) -> dict[str, bytes]:
    """The model folder's files for the actors; a transformer on ONNX needs no torch weights."""
    if not folder.is_dir():
        Predictor.load(folder)  # the one-line error for a missing or wrong folder
    files = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        torch_weights = path.name == "model.safetensors" and (path.parent / "transformer.json").is_file()
        if torch_weights and backend in {"auto", "onnx"}:
            continue
        files[str(path.relative_to(folder))] = path.read_bytes()
    return files


_SCHEMAS = {
    "text": [(name, pa.string()) for name in ("policy", "id")]
    + [(name, pa.int64()) for name in ("start", "end")]
    + [("text", pa.string())],
    "jsonl": [("id", pa.string())],
}
_LABEL_COLUMNS = [("labels", pa.list_(pa.string())), ("scores", pa.struct([(x, pa.float64()) for x in LABELS]))]


class Labeller:
    """A Ray Data actor: one model load, one intra-op thread per CPU it holds; a batch of rows → unit records."""

    def __init__(self, files: Any, backend: str, threads: int, kind: str, fmt: str):
        set_inference_threads(threads)
        files = ray.get(files)  # the model folder's files, put in the object store once by the driver
        self.folder = Path(tempfile.mkdtemp(prefix="clf-model-"))
        for name, data in files.items():
            (self.folder / name).parent.mkdir(parents=True, exist_ok=True)
            (self.folder / name).write_bytes(data)
        self.predictor = Predictor.load(self.folder, backend)
        self.kind, self.fmt = kind, fmt

    def _documents(self, batch: dict[str, Any]) -> list[Document]:
        if self.kind == "text":
            return [
                documents.parse(bytes(data), path, Path(path).suffix.lower())
                for path, data in zip(batch["path"], batch["bytes"], strict=True)
            ]
        docs = []  # consecutive lines of one file make one document of records
        for path, group in itertools.groupby(zip(batch["path"], batch["text"], strict=True), key=lambda x: x[0]):
            try:
                records = documents.jsonl_records([line for _, line in group], path)
            except DataError as exc:  # a batch does not know its line numbers in the file
                raise DataError(f"a record: {exc.message}", path) from None
            docs.append(Document(Path(path).stem, path, records=records))
        return docs

    def __call__(self, batch: dict[str, Any]) -> pa.Table:
        rows = [row for doc in self._documents(batch) for row in predict_document(self.predictor, doc)]
        if self.fmt == "jsonl":
            return pa.table({"line": pa.array([dumps(r) for r in rows], pa.string())})
        schema = pa.schema(_SCHEMAS[self.kind] + _LABEL_COLUMNS)
        if "id" in schema.names:
            rows = [r | {"id": None if r.get("id") is None else str(r["id"])} for r in rows]
        return pa.Table.from_pylist(rows, schema=schema)

    def __del__(self):
        shutil.rmtree(getattr(self, "folder", ""), ignore_errors=True)


class JsonlShards(BlockBasedFileDatasink):
    """One JSONL file per block: the local engine's lines, byte for byte."""

    def __init__(self, path: str):
        super().__init__(path, file_format="jsonl")

    def write_block_to_file(self, block: BlockAccessor, file: Any) -> None:
        file.write("".join(line + "\n" for line in block.to_arrow().column("line").to_pylist()).encode("utf-8"))


_REMOTE_ERROR = re.compile(r"^clf\.errors\.(\w+): (.*)$", re.MULTILINE)


def _clf_error(exc: BaseException) -> ClfError | None:
    """The ClfError an actor raised: Ray Data keeps only the text of a UDF's traceback, so it is read from there."""
    match = _REMOTE_ERROR.search(str(exc))
    if match is None:
        return None
    cls = getattr(errors, match[1], ClfError)
    return cls(match[2]) if isinstance(cls, type) and issubclass(cls, ClfError) else ClfError(match[2])


def predict_ray(
    inputs: list[str],
    model: str | Path,
    out: str,
    *,
    fmt: str = "jsonl",
    actors: int | None = None,
    batch: int = 1000,
    address: str | None = None,
    backend: str = "auto",
    init: dict[str, Any] | None = None,
) -> RayResult:
    """Label `inputs` into shards under `out` (a local folder, replaced atomically, or a URI).

    Without `address`, starts a local Ray with `actors` CPUs (extra `ray.init` arguments in `init`).
    """
    if fmt not in {"jsonl", "parquet"}:
        raise ClfError(f"--engine ray writes jsonl or parquet, not {fmt!r}")
    start = time.monotonic()
    files = _list(inputs)
    jsonl = [f.lower().endswith(".jsonl") for f in files]
    if any(jsonl) and not all(jsonl):
        raise ClfError("--engine ray reads either JSONL files or policy files in one run, not both")
    kind = "jsonl" if all(jsonl) else "text"
    weights = _model_files(Path(model), backend)
    local_out = not _is_uri(out)
    target = Path(out).resolve() if local_out else None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
    tmp = str(target.with_name(f".{target.name}.partial-{os.getpid()}")) if target is not None else out

    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, logging_level=logging.WARNING, **(init or {}))
        else:
            cpus = actors or available_cores()
            ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING, **(init or {}))
    startup = time.monotonic() - start
    try:
        actors = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        io = {"num_cpus": 0}  # the actors hold the CPUs; reading and writing take none
        if kind == "jsonl":
            data = ray.data.read_text(files, include_paths=True, num_cpus=0)
            size = batch
        else:
            data = ray.data.read_binary_files(files, include_paths=True, num_cpus=0)
            size = max(1, batch // UNITS_PER_POLICY)
        settings = {"files": ray.put(weights), "backend": backend, "threads": 1, "kind": kind, "fmt": fmt}
        labelled = data.map_batches(
            Labeller,
            fn_constructor_kwargs=settings,
            batch_size=size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=1,
        )
        logger, level = logging.getLogger("ray.data"), logging.getLogger("ray.data").level
        logger.setLevel(logging.CRITICAL)  # a failed UDF is reported once, as one line, below
        try:
            if fmt == "jsonl":
                labelled.write_datasink(JsonlShards(tmp), ray_remote_args=io)
            else:
                labelled.write_parquet(tmp, ray_remote_args=io)
        except Exception as exc:
            error = _clf_error(exc)
            if error is None:
                raise
            raise error from None
        finally:
            logger.setLevel(level)
        units = _count(tmp, fmt)
        if target is not None:
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            if target.exists():
                target.rename(old)
            Path(tmp).rename(target)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if local_out:
            shutil.rmtree(tmp, ignore_errors=True)
        if started_here:
            ray.shutdown()
    return RayResult(units, time.monotonic() - start, startup)


def _count(folder: str, fmt: str) -> int:
    """Units written (local shards only; a URI is not read back)."""
    if _is_uri(folder):
        return -1
    paths = sorted(Path(folder).glob(f"*.{fmt}"))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    return sum(sum(1 for _ in p.open("rb")) for p in paths)


def read_shards(folder: str | Path) -> list[dict[str, Any]]:
    """The records of a local output folder, shards in name order (= input order)."""
    import json

    folder = Path(folder)
    records: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        records.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    for path in sorted(folder.glob("*.parquet")):
        import pyarrow.parquet as pq

        records.extend(pq.read_table(path).to_pylist())
    return records
