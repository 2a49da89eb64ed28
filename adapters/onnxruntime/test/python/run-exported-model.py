"""Checks exported pref models with onnx's full checker and runs them with onnxruntime.

usage: run-exported-model.py <model.onnx> <sidecar.json> [<model.onnx> <sidecar.json> ...]
Each sidecar lists the graph inputs with the exported batch's values ({"inputs": [{name, type,
dims, values}]}). Prints the outputs as JSON ({name: flat values}); for several models, a list.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

TYPES = {"float32": np.float32, "int32": np.int32, "int64": np.int64}


def run(model_path, sidecar_path):
    onnx.checker.check_model(onnx.load(model_path), full_check=True)
    with open(sidecar_path) as f:
        inputs = json.load(f)["inputs"]
    feeds = {i["name"]: np.array(i["values"], dtype=TYPES[i["type"]]).reshape(i["dims"]) for i in inputs}
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    outputs = session.run(None, feeds)
    return {o.name: np.asarray(v, dtype=np.float64).ravel().tolist() for o, v in zip(session.get_outputs(), outputs)}


args = sys.argv[1:]
results = [run(args[k], args[k + 1]) for k in range(0, len(args), 2)]
print(json.dumps(results[0] if len(results) == 1 else results))
