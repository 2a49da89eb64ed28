export { ReferenceBackend, ReferenceTensor, createReferenceBackend, type ReferenceBackendOptions } from './reference-backend';
export { createPrefBackend } from './create-pref-backend';
