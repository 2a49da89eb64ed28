// The Node global the fixture uses, declared here so that `types: []` holds (no @types/node);
// `console` comes from the DOM lib, which a WebGPU consumer has.
declare function require(id: string): unknown;
