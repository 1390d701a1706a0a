"""Export the whole fp32 torch graph (encoder + mean pooling + head + sigmoid) to one ONNX file, then int8.

The dynamo exporter would write weights to a side `.data` file; we export with
`external_data=False` (the model is far below the 2 GB protobuf limit), so the folder
holds one self-contained `.onnx`. Dynamic int8 quantization (weights int8, activations
quantized on the fly) then shrinks it ~4x and speeds it up on CPUs with VNNI.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np

INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "probabilities"
OPSET = 18


QUANTIZATIONS = ("blockwise", "dynamic")


def export_int8(
    model, path: Path, metadata: dict[str, str], quantization: str = "blockwise", per_channel: bool = True
) -> None:
    """Write `path` (int8 ONNX with `metadata` as metadata_props) from a `MeanPoolClassifier` in eval mode.

    quantization:
    - "dynamic": `onnxruntime.quantization.quantize_dynamic` (int8 weights per channel, activations
      quantized per tensor at run time). Fastest (~1.8x the fp32 graph) but per-tensor activation scales
      are coarse for this fine-tuned encoder: probabilities moved by up to 0.07 (0.3 on a markdown
      policy) from fp32 in our measurements, and a sentence's score depends on its batch.
    - "blockwise": int8 weights in blocks of 32 (`MatMulNBits`, bits=8, accuracy level 4: activations
      quantized per block). Within ~0.01 of fp32 and batch-independent, but no faster than fp32 on
      2 cores; the file is still ~4x smaller for the matmul weights.
    """
    import logging

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # torch's exporter warns about torchvision ops it cannot register; clf uses none of them
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, not {quantization!r}")

    from clf.models.encoder_torch import WithSigmoid

    wrapper = WithSigmoid(model).eval()
    ids = torch.tensor([[101, 2057, 2224, 2115, 102, 0], [101, 2057, 102, 0, 0, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    batch, seq = torch.export.Dim("batch", min=1), torch.export.Dim("sequence", min=1, max=4096)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                wrapper,
                (ids, mask),
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
                opset_version=OPSET,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
        program.save(str(fp32), external_data=False)
        int8 = Path(tmp) / "int8.onnx"
        if quantization == "dynamic":
            quantize_dynamic(
                fp32,
                int8,
                weight_type=QuantType.QInt8,
                per_channel=per_channel,
                # Embedding tables stay fp32: quantizing the Gather saves little time and costs accuracy.
                op_types_to_quantize=["MatMul", "Gemm"],
            )
            proto = onnx.load(str(int8), load_external_data=True)
        else:
            DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer = _import_nbits_quiet()

            config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=4, bits=8)
            quantizer = MatMulNBitsQuantizer(
                onnx.load(str(fp32)), bits=8, block_size=32, is_symmetric=True, accuracy_level=4, algo_config=config
            )
            quantizer.process()
            proto = quantizer.model.model
        metadata = {**metadata, "quantization": quantization}
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
    """Run the exported file once (used by tests and the benchmark)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {"input_ids": input_ids, "attention_mask": attention_mask})[0]
