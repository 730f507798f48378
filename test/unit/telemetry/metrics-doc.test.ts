/** docs/metrics.md must list exactly the families the code can produce, with their types. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { loadConfigValue } from '../../../src/config/load.js';
import { MetricStore } from '../../../src/telemetry/store/store.js';
import { KrakendOtelView } from '../../../src/telemetry/otel/krakend-view.js';
import { registerProcessMetrics } from '../../../src/telemetry/runtime/process-metrics.js';
import { NodeRuntimeMetrics } from '../../../src/telemetry/runtime/nodejs-metrics.js';

function rendered(name: string, type: string): string {
  return type === 'counter' ? `${name}_total` : name;
}

it('docs/metrics.md lists every family with its type', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../../docs/metrics.md'), 'utf8');
  const documented = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `([a-z_0-9]+)` \| (counter|gauge|histogram) \|/gm))
    documented.set(m[1] as string, m[2] as string);

  const produced = new Map<string, string>();
  for (const semconv of ['', '1.27']) {
    const { config } = loadConfigValue(
      {
        version: 3,
        extra_config: {
          'telemetry/opentelemetry': {
            layers: { global: { semantic_convention: semconv } },
            exporters: { prometheus: [{ name: 'p' }] },
          },
        },
      },
      'c',
    );
    const store = new MetricStore();
    new KrakendOtelView(store, config.otel!, config, []);
    for (const f of store.families()) produced.set(rendered(f.name, f.type), f.type);
  }
  const runtime = new MetricStore();
  registerProcessMetrics(runtime);
  new NodeRuntimeMetrics(runtime);
  for (const f of runtime.families()) produced.set(rendered(f.name, f.type), f.type);
  produced.set('target_info', 'gauge');
  produced.set('otel_scope_info', 'gauge');

  assert.deepEqual([...documented.keys()].sort(), [...produced.keys()].sort());
  for (const [name, type] of produced) assert.equal(documented.get(name), type, name);
});
