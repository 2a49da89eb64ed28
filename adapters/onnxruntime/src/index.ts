export { OnnxruntimeBackend, type OnnxruntimeBackendOptions } from './onnxruntime-backend';
export { GraphTensor, type GraphOp, type FeedData } from './graph-tensor';
export { createOnnxruntimeBackend, createPrefBackend, type OnnxruntimeBackendConfig, type OnnxruntimeLogger } from './create-pref-backend';
export { type ExecutionProvider, type SkippedProvider } from './execution-providers';
export { type OrtRuntime, type OrtSession, type OrtTensor } from './ort-runtime';
export { exportOnnxModel, type ExportedOnnxModel, type ExportedInput } from './export-onnx-model';
