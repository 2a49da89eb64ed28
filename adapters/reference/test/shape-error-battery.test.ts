import { describeShapeErrorBattery, referenceBackends } from '@pref/testing';

for (const backend of referenceBackends) describeShapeErrorBattery(backend);
