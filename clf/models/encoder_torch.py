"""The torch side of the transformer model: encoder + masked mean pooling + linear head, and its training loop.

Imported only when a model is trained, exported or run on the "torch" backend, so that the
ONNX backend never imports torch or transformers.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from clf.models.base import Progress, inference_threads
from clf.models.batching import bucket_batches, pad


def set_threads() -> None:
    cores = inference_threads()
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)


class MeanPoolClassifier(nn.Module):
    """`AutoModel` encoder → mean of the token vectors under the attention mask → dropout → linear head (logits)."""

    def __init__(self, encoder: nn.Module, n_labels: int, dropout: float = 0.1, normalize: bool = True):
        super().__init__()
        self.encoder = encoder
        self.normalize = normalize  # all-MiniLM-L6-v2 was trained with L2-normalised mean-pooled embeddings
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_labels)

    def pool(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pool_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean of the token vectors under `pool_mask` (default: every token). Attention sees all tokens, so
        with a context segment after the unit, the unit's tokens are read in context but only they are pooled."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = (attention_mask if pool_mask is None else pool_mask).unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        if self.normalize:
            pooled = pooled / pooled.norm(dim=-1, keepdim=True).clamp(min=1e-9)
        return pooled

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pool_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.head(self.dropout(self.pool(input_ids, attention_mask, pool_mask)))


class WithSigmoid(nn.Module):
    """The exported graph: probabilities, not logits."""

    def __init__(self, model: MeanPoolClassifier):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pool_mask: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.model(input_ids, attention_mask, pool_mask))


def pretrained(base_dir: Path, n_labels: int, dropout: float, normalize: bool) -> MeanPoolClassifier:
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()  # the unused pooler weights of the checkpoint are reported otherwise
    encoder = AutoModel.from_pretrained(str(base_dir), add_pooling_layer=False, local_files_only=True)
    return MeanPoolClassifier(encoder, n_labels, dropout, normalize)


def from_config(encoder_config: dict[str, Any], n_labels: int, dropout: float, normalize: bool) -> MeanPoolClassifier:
    """The architecture without pretrained weights (they are loaded from the model folder next)."""
    from transformers import AutoConfig, AutoModel

    config = dict(encoder_config)
    config = AutoConfig.for_model(config.pop("model_type"), **config)
    encoder = AutoModel.from_config(config, add_pooling_layer=False)
    return MeanPoolClassifier(encoder, n_labels, dropout, normalize)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def freeze(model: MeanPoolClassifier, embeddings: bool, layers: int) -> list[nn.Module]:
    """Freeze the embeddings and the lowest `layers` transformer layers; returns the frozen modules."""
    frozen: list[nn.Module] = []
    if embeddings:
        frozen.append(model.encoder.embeddings)
    frozen.extend(model.encoder.encoder.layer[:layers])
    for module in frozen:
        for p in module.parameters():
            p.requires_grad_(False)
    return frozen


def train(
    model: MeanPoolClassifier,
    token_ids: list[list[int]],
    y: np.ndarray,
    *,
    pad_id: int,
    pooled: list[int] | None = None,
    plain_ids: list[list[int]] | None = None,
    context_dropout: float = 0.0,
    epochs: float,
    batch_size: int,
    lr: float,
    head_lr: float,
    weight_decay: float,
    warmup_ratio: float,
    max_pos_weight: float,
    freeze_embeddings: bool,
    freeze_layers: int,
    probe_steps: int,
    probe_lr: float,
    seed: int,
    progress: Progress | None = None,
) -> list[float]:
    """Fine-tune in place with BCE + per-label pos_weight, AdamW, linear warmup/decay. Returns the step losses.

    With a context segment (`pooled`: the unit's token count in each sequence), `plain_ids` holds each unit
    without its context, used instead with probability `context_dropout` per example and step, so the model
    also labels a sentence that arrives alone.

    With `probe_steps`, the head is first fitted alone on the frozen pretrained embeddings (a linear probe,
    full batch, cheap: one forward pass over the data), then everything trainable is fine-tuned from there
    ("LP-FT"): the encoder starts from a good head instead of being pulled around by a random one.
    """
    import datasets

    datasets.disable_progress_bars()
    set_threads()
    seed_everything(seed)
    rng = np.random.default_rng(seed)

    # The data pipeline: a `datasets.Dataset` of token ids, lengths and float targets.
    columns = {"input_ids": token_ids, "labels": y.astype(np.float32).tolist()}
    columns["pooled"] = pooled if pooled is not None else [len(x) for x in token_ids]
    columns["plain_ids"] = plain_ids if plain_ids is not None else token_ids
    table = datasets.Dataset.from_dict(columns).map(lambda row: {"length": len(row["input_ids"])})
    table = table.with_format("numpy", columns=["length", "labels"], output_all_columns=True)
    lengths = np.asarray(table["length"])
    targets = torch.from_numpy(np.asarray(table["labels"], dtype=np.float32))

    # Class imbalance: pos_weight = negatives / positives, capped; labels absent from the data get 1.
    positives = targets.sum(dim=0)
    pos_weight = ((len(targets) - positives) / positives.clamp(min=1)).clamp(min=1.0, max=max_pos_weight)
    pos_weight[positives == 0] = 1.0
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)

    steps_per_epoch = math.ceil(len(lengths) / batch_size)
    total = max(0, round(epochs * steps_per_epoch))
    if probe_steps:
        probe_loss = _linear_probe(model, table, lengths, targets, loss_fn, pad_id, probe_steps, probe_lr, weight_decay)
        if progress:
            progress({"step": 0, "total": total, "loss": round(probe_loss, 4)})

    frozen = freeze(model, freeze_embeddings, freeze_layers)
    head_params = list(model.head.parameters())
    decay, no_decay = [], []
    for p in model.encoder.parameters():
        if p.requires_grad:
            (no_decay if p.ndim == 1 else decay).append(p)
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "lr": lr, "weight_decay": weight_decay},
            {"params": no_decay, "lr": lr, "weight_decay": 0.0},
            {"params": head_params, "lr": head_lr, "weight_decay": 0.0},
        ]
    )
    warmup = round(warmup_ratio * total)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model.train()
    for module in frozen:
        module.eval()  # no dropout inside frozen parts: they are fixed feature extractors
    losses: list[float] = []
    step = 0
    while step < total:
        for batch in bucket_batches(lengths, batch_size, rng):
            if step >= total:
                break
            rows = table.select(batch)
            sequences, pool_lengths = list(rows["input_ids"]), list(rows["pooled"])
            if context_dropout:
                for i, plain in enumerate(rows["plain_ids"]):
                    if rng.random() < context_dropout:
                        sequences[i], pool_lengths[i] = plain, len(plain)
            ids, mask, pool_mask = pad(sequences, pad_id, pool_lengths)
            logits = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(pool_mask))
            loss = loss_fn(logits, targets[batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            losses.append(loss.item())
            if progress:
                progress({"step": step, "total": total, "loss": round(losses[-1], 4)})
    model.eval()
    for p in model.parameters():
        p.requires_grad_(True)
    return losses


def _linear_probe(model, table, lengths, targets, loss_fn, pad_id, steps, lr, weight_decay) -> float:
    """Fit the head alone, full batch, on the pooled embeddings of the pretrained encoder (no dropout)."""
    model.eval()
    order = np.argsort(lengths, kind="stable")
    features = torch.zeros((len(lengths), model.head.in_features))
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            chosen = order[start : start + 64]
            rows = table.select(chosen)
            ids, mask, pool_mask = pad(rows["input_ids"], pad_id, rows["pooled"])
            features[chosen] = model.pool(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(pool_mask))
    features = features.clone()
    optimizer = torch.optim.AdamW(model.head.parameters(), lr=lr, weight_decay=weight_decay)
    loss = torch.zeros(())
    for _ in range(steps):
        loss = loss_fn(model.head(features), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return loss.item()


@torch.inference_mode()
def probabilities(
    model: MeanPoolClassifier, input_ids: np.ndarray, attention_mask: np.ndarray, pool_mask: np.ndarray
) -> np.ndarray:
    logits = model(torch.from_numpy(input_ids), torch.from_numpy(attention_mask), torch.from_numpy(pool_mask))
    return torch.sigmoid(logits).numpy().astype(np.float32)
