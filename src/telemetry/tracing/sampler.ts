/**
 * `trace_sample_rate` as a parent-based ratio sampler: a sampled remote parent is followed, an
 * unsampled one too; without a parent, the trace id decides (its low 52 bits against the rate), so
 * every service sampling by trace id agrees. Unlike KrakenD CE, a rate of 0 samples nothing (CE
 * samples everything at 0, https://github.com/krakend/krakend-otel/blob/HEAD/state/state.go; operators
 * setting 0 mean "off").
 */
export class ParentBasedRatioSampler {
  readonly #threshold: number;

  constructor(readonly rate: number) {
    this.#threshold = Math.max(0, Math.min(1, rate)) * 2 ** 52;
  }

  shouldSample(traceId: string, parentSampled: boolean | undefined): boolean {
    if (parentSampled !== undefined) return parentSampled;
    if (this.rate >= 1) return true;
    if (this.rate <= 0) return false;
    return parseInt(traceId.slice(-13), 16) < this.#threshold;
  }
}
