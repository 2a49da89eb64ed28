import { describeBadInputBattery, referenceBackends } from '@pref/testing';

// Float64 and float32 (the float32 range check differs); the wasm kernel validates the same way as js.
for (const backend of referenceBackends.filter((b) => !b.name.includes('wasm'))) describeBadInputBattery(backend);
