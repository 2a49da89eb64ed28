import { describeGradientBufferBattery, referenceBackends } from '@pref/testing';

for (const backend of referenceBackends) describeGradientBufferBattery(backend);
