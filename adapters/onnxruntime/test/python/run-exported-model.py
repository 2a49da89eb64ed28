"""Checks an exported pref model with onnx's full checker and runs it with onnxruntime.

usage: run-exported-model.py <model.onnx> <sidecar.json>
The sidecar lists the graph inputs with this batch's values ({"inputs": [{name, type, dims,
values}]}); prints the outputs as JSON ({name: flat values}).
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

model_path, sidecar_path = sys.argv[1:3]
onnx.checker.check_model(onnx.load(model_path), full_check=True)
types = {"float32": np.float32, "int32": np.int32, "int64": np.int64}
with open(sidecar_path) as f:
    inputs = json.load(f)["inputs"]
feeds = {i["name"]: np.array(i["values"], dtype=types[i["type"]]).reshape(i["dims"]) for i in inputs}
session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
outputs = session.run(None, feeds)
print(json.dumps({o.name: np.asarray(v, dtype=np.float64).ravel().tolist() for o, v in zip(session.get_outputs(), outputs)}))
