// Vitest setup file (vitest.shared.ts): one fast-check seed for every property test.
import { configurePropertySeed } from './property-seed';

configurePropertySeed();
