"""Model runtimes behind one call: ``predict(batch) -> Detections``.

``tensorflow``: a TF frozen graph (GraphDef) imported into a ``tf.compat.v1.Session``.
``onnxruntime``: an ONNX model; input and output names are read from the model and the
outputs matched by the ssd-mobilenet names (``detection_boxes``, ``detection_scores``,
``detection_classes``, ``num_detections``, with or without ``:0``), so a tf2onnx conversion
needs no configuration. Both take a uint8 NHWC batch and give boxes as normalized
(ymin, xmin, ymax, xmax).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .common import HarnessError, require
else:
    from common import HarnessError, require

INPUT = "image_tensor"
OUTPUTS = ("num_detections", "detection_boxes", "detection_scores", "detection_classes")
BACKENDS = ("tensorflow", "onnxruntime")

FloatArray = npt.NDArray[np.float32]


@dataclass
class Detections:
    """A batch's outputs: num [N], boxes [N, K, 4], scores [N, K], classes [N, K]."""

    num: FloatArray
    boxes: FloatArray
    scores: FloatArray
    classes: FloatArray


class Backend:
    name = ""

    def __init__(self, model: str, threads: int, inter_threads: int) -> None:
        if not os.path.isfile(model):
            raise HarnessError(f"model file {model} does not exist: pass the model's path "
                               "(a TF frozen graph .pb or an .onnx file)")
        if threads < 0 or inter_threads < 0:
            raise HarnessError("--threads and --inter-threads must be 0 (runtime default) or "
                               "more")
        self.model = model
        self.threads = threads
        self.inter_threads = inter_threads

    def predict(self, batch: npt.NDArray[np.uint8]) -> Detections:
        raise NotImplementedError


class TensorFlowBackend(Backend):
    name = "tensorflow"

    def __init__(self, model: str, threads: int, inter_threads: int) -> None:
        super().__init__(model, threads, inter_threads)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        tf = require("tensorflow", "the tensorflow backend")
        graph_def = tf.compat.v1.GraphDef()
        try:
            with open(model, "rb") as fh:
                graph_def.ParseFromString(fh.read())
        except Exception as exc:  # protobuf's DecodeError has no stable import path
            raise HarnessError(f"{model} is not a TensorFlow frozen graph (GraphDef): {exc}; "
                               "use --backend onnxruntime for an .onnx model") from None
        graph = tf.Graph()
        with graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")
        names = {op.name for op in graph.get_operations()}
        missing = [n for n in (INPUT, *OUTPUTS) if n not in names]
        if missing:
            raise HarnessError(f"model {model} lacks the ssd-mobilenet tensors "
                               f"{', '.join(m + ':0' for m in missing)}: it is not an "
                               "object-detection graph with the TF detection API's names")
        config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads,
                                          inter_op_parallelism_threads=inter_threads)
        self.session: Any = tf.compat.v1.Session(graph=graph, config=config)
        self.fetches = [graph.get_tensor_by_name(n + ":0") for n in OUTPUTS]
        self.feed = graph.get_tensor_by_name(INPUT + ":0")

    def predict(self, batch: npt.NDArray[np.uint8]) -> Detections:
        num, boxes, scores, classes = self.session.run(self.fetches, {self.feed: batch})
        return Detections(np.asarray(num, np.float32), np.asarray(boxes, np.float32),
                          np.asarray(scores, np.float32), np.asarray(classes, np.float32))


class OnnxBackend(Backend):
    name = "onnxruntime"

    def __init__(self, model: str, threads: int, inter_threads: int,
                 device: str = "cpu") -> None:
        super().__init__(model, threads, inter_threads)
        ort = require("onnxruntime", "the onnxruntime backend")
        self.providers = providers(ort, device)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = inter_threads
        if inter_threads > 1:
            options.execution_mode = ort.ExecutionMode.ORT_PARALLEL
        try:
            self.session: Any = ort.InferenceSession(model, sess_options=options,
                                                     providers=self.providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph classes
            raise HarnessError(f"onnxruntime cannot load {model}: {exc}") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise HarnessError(f"model {model} has {len(inputs)} inputs "
                               f"({', '.join(i.name for i in inputs)}); the detector needs one "
                               "uint8 NHWC image input")
        self.input = str(inputs[0].name)
        available = [str(o.name) for o in self.session.get_outputs()]
        self.outputs: list[str] = []
        for wanted in OUTPUTS:
            match = [n for n in available if n.split(":")[0].split("/")[-1] == wanted]
            if not match:
                raise HarnessError(f"model {model} has no output named {wanted} (it has: "
                                   f"{', '.join(available)}): convert it with the TF "
                                   "detection API's output names")
            self.outputs.append(match[0])

    def predict(self, batch: npt.NDArray[np.uint8]) -> Detections:
        num, boxes, scores, classes = self.session.run(self.outputs, {self.input: batch})
        return Detections(np.asarray(num, np.float32), np.asarray(boxes, np.float32),
                          np.asarray(scores, np.float32), np.asarray(classes, np.float32))


DEVICES = ("cpu", "cuda")


def providers(ort: Any, device: str) -> list[str]:
    """ONNX Runtime's execution providers for ``device``: the CPU, or CUDA (TensorRT first
    where the installed onnxruntime has it) with the CPU for what they do not run."""
    if device == "cpu":
        return ["CPUExecutionProvider"]
    available = list(ort.get_available_providers())
    if "CUDAExecutionProvider" not in available:
        raise HarnessError(f"--device=cuda: the solution venv's onnxruntime has no CUDA "
                           f"execution provider (it has {', '.join(available)}): install "
                           "onnxruntime-gpu into it")
    gpu = [p for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider") if p in available]
    return gpu + ["CPUExecutionProvider"]


def create(backend: str, model: str, threads: int = 0, inter_threads: int = 0,
           device: str = "cpu") -> Backend:
    if device not in DEVICES:
        raise HarnessError(f"unknown device {device!r}: use one of {', '.join(DEVICES)}")
    if backend == "tensorflow":
        if device != "cpu":
            raise HarnessError("--device=cuda runs the onnxruntime backend only (the "
                               "tensorflow backend is tensorflow-cpu)")
        return TensorFlowBackend(model, threads, inter_threads)
    if backend == "onnxruntime":
        return OnnxBackend(model, threads, inter_threads, device)
    raise HarnessError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")


def encode(ids: list[int], det: Detections) -> list[FloatArray]:
    """Per sample, the MLPerf ssd-mobilenet response: float32 rows
    [qsl_idx, ymin, xmin, ymax, xmax, score, class], one per detection."""
    rows: list[FloatArray] = []
    for i, sample in enumerate(ids):
        n = int(det.num[i])
        out = np.empty((n, 7), dtype=np.float32)
        out[:, 0] = sample
        out[:, 1:5] = det.boxes[i, :n]
        out[:, 5] = det.scores[i, :n]
        out[:, 6] = det.classes[i, :n]
        rows.append(out)
    return rows
