import { describeConformance, installedObjectives, referenceBackends } from '../src';

// Every case file with every objective package of the repository, on the reference backend;
// a case whose objective package is missing is reported as skipped with the reason.
const { objectives } = await installedObjectives();
describeConformance({
  objectives,
  backends: referenceBackends,
});
