// The two Node globals the fixture uses, declared here so that `types: []` holds (no @types/node).
declare const console: { log(...values: unknown[]): void };
declare function require(id: string): unknown;
