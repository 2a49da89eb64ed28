import { describeTfjsConformance } from './describe-tfjs-conformance';

// Every case, both gradient paths.
await describeTfjsConformance('cpu');
