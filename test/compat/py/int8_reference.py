"""Python ONNX Runtime's quantize_dynamic beside our model.int8.onnx (test/compat/int8.compat.test.ts).

  int8_reference.py <model.onnx> <model.int8.onnx> <inputs.json> <work dir>

quantize_dynamic quantizes a MatMul only when its weight is an initializer; our model.onnx computes a
Linear layer as MatMul(x, Transpose(W)) (ONNX Runtime's own graph optimizer folds that Transpose when
it loads the model). So the Transposes of 2-D initializers are folded first, as ORT's pre-processing
would, and the folded model is quantized with quantize_dynamic's defaults. Prints one JSON line: the
checker's verdict on ours, both models' logits on the inputs (run in Python's onnxruntime), and, for
each tensor ORT quantized, whether ours holds the same values (with the same scale and zero point).
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from onnxruntime.quantization import quantize_dynamic

src, ours_path, inputs_path, work = sys.argv[1:5]

model = onnx.load(src)
inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
kept = []
for n in model.graph.node:
    if n.op_type == "Transpose" and n.input[0] in inits and inits[n.input[0]].ndim == 2:
        model.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(inits[n.input[0]].T), n.output[0]))
    else:
        kept.append(n)
del model.graph.node[:]
model.graph.node.extend(kept)
folded = f"{work}/folded.onnx"
theirs_path = f"{work}/model.ort-int8.onnx"
onnx.save(model, folded)
quantize_dynamic(folded, theirs_path)

ours = onnx.load(ours_path)
onnx.checker.check_model(ours, full_check=True)

feeds = json.load(open(inputs_path))
ids = np.array(feeds["input_ids"], dtype=np.int64)
mask = np.array(feeds["attention_mask"], dtype=np.int64)
opts = ort.SessionOptions()
opts.intra_op_num_threads = 1


def logits(path):
    s = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    return s.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]


theirs = onnx.load(theirs_path)
def quantized(m):
    t = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    return {k[: -len("_quantized")]: (v, t[k[: -len("_quantized")] + "_scale"], t[k[: -len("_quantized")] + "_zero_point"])
            for k, v in t.items() if k.endswith("_quantized")}


mine = list(quantized(ours).values())
matched = {}
for name, (q, s, z) in quantized(theirs).items():
    matched[name] = any(q.shape == m[0].shape and np.array_equal(q, m[0]) and np.array_equal(s, m[1]) and np.array_equal(z, m[2]) for m in mine)

print(json.dumps({
    "checker": "ok",
    "ort": ort.__version__,
    "ops_theirs": sorted({n.op_type for n in theirs.graph.node}),
    "ops_ours": sorted({n.op_type for n in ours.graph.node}),
    "matched": matched,
    "ours": logits(ours_path).ravel().tolist(),
    "theirs": logits(theirs_path).ravel().tolist(),
    "fp32": logits(src).ravel().tolist(),
}))
