import { describeLeakBattery, referenceBackends } from '@pref/testing';

for (const backend of referenceBackends) describeLeakBattery(backend);
