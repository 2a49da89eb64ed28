import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import type { BenchMachine } from './bench-report';

/** The machine the numbers were measured on. */
export function describeMachine(): BenchMachine {
  const processors = cpus();
  return {
    platform: platform(),
    arch: arch(),
    cpuModel: processors[0]?.model?.trim() ?? 'unknown',
    cpus: processors.length,
    totalMemoryBytes: totalmem(),
    node: process.version,
    loadAverage: loadavg(),
  };
}
