// Vitest global setup (vitest.config.ts): prints the fast-check seed once per run.
import { propertySeed } from '../packages/testing/src/property-seed';

export default function printPropertySeed(): void {
  process.stdout.write(`fast-check seed ${propertySeed()} (override with PREF_PROPERTY_SEED=<integer>)\n`);
}
