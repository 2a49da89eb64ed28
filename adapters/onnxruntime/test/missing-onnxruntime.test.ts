import { expect, it, vi } from 'vitest';

it('without onnxruntime-node installed, starting the backend says how to install it', async () => {
  vi.resetModules();
  vi.doMock('onnxruntime-node', () => {
    throw Object.assign(new Error("Cannot find package 'onnxruntime-node' imported from @pref/adapter-onnxruntime"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
  });
  const { createOnnxruntimeBackend } = await import('../src');
  await expect(createOnnxruntimeBackend()).rejects.toThrow(
    /needs the peer dependency onnxruntime-node, which is not installed: install it with `npm i onnxruntime-node`/,
  );
  vi.doUnmock('onnxruntime-node');
});
