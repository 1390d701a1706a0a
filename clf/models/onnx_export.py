"""Export the whole fp32 torch graph (encoder + mean pooling + head + sigmoid) to one ONNX file, fuse it, then int8.

Three steps, each measured on this model (2 CPU cores, benchmarks/results.md):
1. TorchScript export with eager attention, so that step 2 recognises the attention pattern
   (the dynamo exporter's graph is not fused by onnxruntime's optimizer). No `.data` side file.
2. onnxruntime's transformer optimizer fuses each layer's attention, skip + LayerNorm and
   bias + GELU into single kernels: faster, and a lower peak memory (the attention scores
   are never materialised per head).
3. int8 weights. "blockwise" (default): 8-bit weights in blocks of 16 with fp32 activations
   (`MatMulNBits`, accuracy level 1): ~4x smaller matrices, probabilities within ~0.01 of fp32,
   and a sentence's scores do not depend on its batch. "dynamic": onnxruntime's
   `quantize_dynamic` (int8 activations per tensor, run time scales): about 1.8x faster, but
   this fine-tuned head is steep (weight norms ~25 on a unit vector) and per-tensor activation
   scales move probabilities by up to 0.2-0.3; an option, not the default.
"""

from __future__ import annotations

import copy
import tempfile
import warnings
from pathlib import Path

import numpy as np

INPUT_NAMES = ("input_ids", "attention_mask", "pool_mask")  # pool_mask: the unit's tokens (not its context)
OUTPUT_NAME = "probabilities"
OPSET = 17
BLOCK_SIZE = 16  # blocks of 32 moved probabilities by up to 0.03; 16 keeps them within ~0.01
FUSED_OPS = ("EmbedLayerNormalization", "Attention", "SkipLayerNormalization", "BiasGelu")

QUANTIZATIONS = ("blockwise", "dynamic")


def export_fp32(model, path: Path) -> None:
    """TorchScript-export a `MeanPoolClassifier` (with a sigmoid) with dynamic batch and sequence axes."""
    import logging

    import torch

    from clf.models.encoder_torch import WithSigmoid

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    module = copy.deepcopy(model).eval()
    module.encoder.set_attn_implementation("eager")  # the pattern the optimizer fuses into one Attention op
    ids = torch.tensor([[101, 2057, 2224, 2115, 102, 0], [101, 2057, 102, 0, 0, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    pool_mask = mask.clone()
    pool_mask[0, 3:] = 0
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            WithSigmoid(module),
            (ids, mask, pool_mask),
            str(path),
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes={**axes, OUTPUT_NAME: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


def fuse(source: Path, num_heads: int, hidden_size: int):
    """Fuse attention, LayerNorm and GELU subgraphs; returns the fused ModelProto and how many of each were fused."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(source), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=0
    )
    stats = optimized.get_fused_operator_statistics()
    return optimized.model, {op: int(stats.get(op, 0)) for op in FUSED_OPS}


def export_int8(
    model, path: Path, metadata: dict[str, str], quantization: str = "blockwise", per_channel: bool = True
) -> None:
    """Write `path` (int8 ONNX with `metadata` as metadata_props) from a `MeanPoolClassifier`."""
    import json

    import onnx

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, not {quantization!r}")
    config = model.encoder.config
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export_fp32(model, fp32)
        if quantization == "dynamic":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # on the unfused graph (the quantizer cannot type the fused ops); onnxruntime fuses what it can at load
            int8 = Path(tmp) / "int8.onnx"
            quantize_dynamic(
                fp32,
                int8,
                weight_type=QuantType.QInt8,
                per_channel=per_channel,
                op_types_to_quantize=["MatMul", "Gemm"],  # embedding tables stay fp32
                extra_options={"MatMulConstBOnly": True},
            )
            proto, fusions = onnx.load(str(int8)), {}
        else:
            fused, fusions = fuse(fp32, config.num_attention_heads, config.hidden_size)
            config_cls, quantizer_cls = _import_nbits_quiet()
            settings = dict(block_size=BLOCK_SIZE, is_symmetric=True, accuracy_level=1, bits=8)
            quantizer = quantizer_cls(fused, algo_config=config_cls(**settings), **settings)
            quantizer.process()
            proto = quantizer.model.model
    metadata = {**metadata, "quantization": quantization, "fused_ops": json.dumps(fusions)}
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "clf"
    onnx.save(proto, str(path), save_as_external_data=False)


def _import_nbits_quiet():
    """Import onnxruntime's block-wise quantizer without letting it turn on INFO logging for the whole process.

    The module calls `logging.basicConfig(level=INFO)` on import and then logs every graph node.
    """
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    for handler in root.handlers[len(handlers) :]:
        root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    return DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer


def check_graph(path: Path, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Run the exported file once (used by tests and the benchmark), pooling every token."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": input_ids, "attention_mask": attention_mask, "pool_mask": attention_mask}
    return session.run([OUTPUT_NAME], {i.name: feeds[i.name] for i in session.get_inputs()})[0]
