import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DEFAULT_BATCHER } from '../../../src/config/environment.js';
import { normalizeConfig } from '../../../src/config/normalize.js';
import type { RawObject } from '../../../src/config/raw.js';

const otlp = (extra: RawObject = {}): RawObject => ({
  exporters: { otlp: [{ name: 'collector', host: '127.0.0.1', ...extra }] },
});

function load(
  extraConfig: RawObject,
  env: NodeJS.ProcessEnv,
): { config: ReturnType<typeof normalizeConfig>; warnings: string[] } {
  const warnings: string[] = [];
  const config = normalizeConfig({ version: 3, extra_config: extraConfig, endpoints: [] }, warnings, env);
  return { config, warnings };
}

describe('environment variables, read once at load', () => {
  it('TOLLGATE_NODE_ID becomes the Kong settings node id (undefined when unset)', () => {
    assert.equal(
      load({ 'telemetry/kong-prometheus': {} }, { TOLLGATE_NODE_ID: 'node-7' }).config.kong?.nodeId,
      'node-7',
    );
    assert.equal(load({ 'telemetry/kong-prometheus': {} }, {}).config.kong?.nodeId, undefined);
  });

  it('OTEL_BSP_* set the span batcher of the OpenTelemetry settings', () => {
    const { config, warnings } = load(
      { 'telemetry/opentelemetry': otlp() },
      { OTEL_BSP_MAX_QUEUE_SIZE: '1024', OTEL_BSP_SCHEDULE_DELAY: '100' },
    );
    assert.deepEqual(config.otel?.spanBatch, { ...DEFAULT_BATCHER, maxQueue: 1024, maxBatch: 1024, delayMs: 100 });
    assert.deepEqual(warnings, []);
  });

  it('reports a bad OTEL_BSP_* value and keeps the default, when spans are exported', () => {
    const { config, warnings } = load({ 'telemetry/opentelemetry': otlp() }, { OTEL_BSP_EXPORT_TIMEOUT: '-1' });
    assert.equal(config.otel?.spanBatch.exportTimeoutMs, DEFAULT_BATCHER.exportTimeoutMs);
    assert.deepEqual(warnings, ['OTEL_BSP_EXPORT_TIMEOUT="-1" is not a positive integer; using 30000']);
  });

  it('says nothing of OTEL_BSP_* when no exporter sends spans (the batcher never runs)', () => {
    assert.deepEqual(
      load({ 'telemetry/opentelemetry': otlp({ disable_traces: true }) }, { OTEL_BSP_EXPORT_TIMEOUT: 'x' }).warnings,
      [],
    );
    assert.deepEqual(load({}, { OTEL_BSP_EXPORT_TIMEOUT: 'x' }).warnings, []);
  });
});
