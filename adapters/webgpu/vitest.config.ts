import { packageProject } from '../../vitest.shared.ts';

// Test files share their worker process (isolate: false) and so one Dawn instance: Dawn's native
// adapter-enumeration warnings on lavapipe (see src/load-gpu.ts) print once per worker, not per file.
export default packageProject('@pref/adapter-webgpu', { isolate: false });
