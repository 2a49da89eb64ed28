import { describeTfjsConformance } from './describe-tfjs-conformance';

await describeTfjsConformance('webgpu');
