// The warnings a side-by-side benchmark prints when other load may have skewed its runs.
import { NOISY_BACKGROUND_PERCENT } from './cpu-quiet.js';

export interface NoiseRun {
  readonly endpoint: string;
  readonly mode: string;
  readonly round: number;
  readonly foreignDuringPercent?: number | undefined;
  readonly result: { readonly backgroundCpuBusyPercent: number };
}

export function noiseWarnings(runs: readonly NoiseRun[]): string[] {
  const out: string[] = [];
  const noisy = runs.filter((r) => r.result.backgroundCpuBusyPercent > NOISY_BACKGROUND_PERCENT);
  if (noisy.length > 0) {
    out.push(
      '',
      `warning: the machine was busy before ${noisy.length} of ${runs.length} runs (background CPU up to ${Math.round(Math.max(...noisy.map((r) => r.result.backgroundCpuBusyPercent)))}%); ` +
        'numbers are noisy — rerun on a quiet machine',
    );
  }
  const noisyDuring = runs.filter((r) => (r.foreignDuringPercent ?? 0) > NOISY_BACKGROUND_PERCENT);
  if (noisyDuring.length > 0) {
    out.push(
      `warning: other processes used the CPU during ${noisyDuring.length} of ${runs.length} measured runs ` +
        `(${noisyDuring.map((r) => `${r.endpoint}/${r.mode} r${r.round + 1} ${Math.round(r.foreignDuringPercent ?? 0)}%`).join(', ')}); those req/s are low`,
    );
  }
  return out;
}
