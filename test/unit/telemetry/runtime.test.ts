import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderPrometheusText } from '../../../src/telemetry/exposition/prometheus-text.js';
import {
  isRequestResource,
  LAG_RESOLUTION_MS,
  NodeRuntimeMetrics,
} from '../../../src/telemetry/runtime/nodejs-metrics.js';
import { registerProcessMetrics } from '../../../src/telemetry/runtime/process-metrics.js';
import { MetricStore } from '../../../src/telemetry/store/store.js';

const LINUX = process.platform === 'linux';

/** Rendered family name (counters with `_total`) → TYPE. */
const EXPECTED_TYPES: Record<string, string> = {
  process_cpu_user_seconds_total: 'counter',
  process_cpu_system_seconds_total: 'counter',
  process_cpu_seconds_total: 'counter',
  process_start_time_seconds: 'gauge',
  process_resident_memory_bytes: 'gauge',
  ...(LINUX
    ? {
        process_virtual_memory_bytes: 'gauge',
        process_heap_bytes: 'gauge',
        process_open_fds: 'gauge',
        process_max_fds: 'gauge',
        // client_golang's Linux collector has these too (process_collector_procfsenabled.go).
        process_virtual_memory_max_bytes: 'gauge',
        process_network_receive_bytes_total: 'counter',
        process_network_transmit_bytes_total: 'counter',
      }
    : {}),
  nodejs_heap_size_total_bytes: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
  nodejs_external_memory_bytes: 'gauge',
  nodejs_array_buffers_bytes: 'gauge',
  nodejs_heap_space_size_used_bytes: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
  nodejs_eventloop_lag_max_seconds: 'gauge',
  nodejs_eventloop_utilization_ratio: 'gauge',
  nodejs_gc_duration_seconds: 'histogram',
  nodejs_active_handles: 'gauge',
  nodejs_active_requests: 'gauge',
  nodejs_version_info: 'gauge',
};

function types(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1] as string, m[2] as string);
  return out;
}

/** The value of the first sample whose name+labels start with `prefix`. */
function sample(text: string, prefix: string): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(prefix) && (l[prefix.length] === ' ' || l[prefix.length] === '{'));
  assert.ok(line !== undefined, `no sample ${prefix}`);
  const v = line.slice(line.lastIndexOf(' ') + 1);
  return v === '+Inf' ? Infinity : Number(v);
}

function tally(names: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of names) m.set(n, (m.get(n) ?? 0) + 1);
  return m;
}

/** Enough short-lived garbage to force several scavenges (minor GCs) without --expose-gc. */
function churn(): number {
  let keep = 0;
  for (let i = 0; i < 200_000; i++) keep += new Array<number>(32).fill(i).length;
  return keep;
}

it('exports the process and nodejs runtime families with plausible values, and close() leaves nothing running', async () => {
  const store = new MetricStore();
  registerProcessMetrics(store);
  const runtime = new NodeRuntimeMetrics(store);

  await sleep(5);
  const before = tally(process.getActiveResourcesInfo());
  runtime.start();
  runtime.start(); // idempotent

  assert.ok(churn() > 0);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
  // Loop turns past a few of the delay monitor's samples (one per LAG_RESOLUTION_MS), with some busy
  // time for utilization.
  const turns = Math.ceil((3 * LAG_RESOLUTION_MS) / 20);
  for (let i = 0; i < turns; i++) {
    const until = Date.now() + 5;
    while (Date.now() < until) {
      /* busy */
    }
    await sleep(15);
  }

  const now = Date.now() / 1000;
  const text = renderPrometheusText(store.snapshot(new Set(['process', 'nodejs'])));
  runtime.close();
  runtime.close(); // idempotent

  const seen = types(text);
  for (const [name, type] of Object.entries(EXPECTED_TYPES))
    assert.equal(seen.get(name), type, `${name} has TYPE ${type}\n${text}`);

  assert.ok(sample(text, 'process_resident_memory_bytes') > 0);
  assert.ok(Math.abs(sample(text, 'process_start_time_seconds') - (now - process.uptime())) < 2);
  const user = sample(text, 'process_cpu_user_seconds_total');
  const system = sample(text, 'process_cpu_system_seconds_total');
  assert.ok(user >= 0 && system >= 0);
  assert.ok(Math.abs(sample(text, 'process_cpu_seconds_total') - (user + system)) < 1e-6);
  if (LINUX) {
    assert.ok(sample(text, 'process_open_fds') > 0);
    assert.ok(sample(text, 'process_max_fds') >= sample(text, 'process_open_fds'));
    assert.ok(sample(text, 'process_virtual_memory_bytes') >= sample(text, 'process_resident_memory_bytes'));
    assert.ok(sample(text, 'process_heap_bytes') > 0);
  }

  assert.ok(sample(text, 'nodejs_heap_size_used_bytes') > 0);
  assert.ok(sample(text, 'nodejs_heap_size_total_bytes') >= sample(text, 'nodejs_heap_size_used_bytes'));
  assert.ok(sample(text, 'nodejs_heap_space_size_used_bytes{space="old"}') > 0);
  assert.ok(sample(text, 'nodejs_eventloop_lag_seconds') > 0);
  assert.ok(sample(text, 'nodejs_eventloop_lag_max_seconds') >= sample(text, 'nodejs_eventloop_lag_p99_seconds'));
  const elu = sample(text, 'nodejs_eventloop_utilization_ratio');
  assert.ok(elu > 0 && elu <= 1, `utilization ${elu}`);
  assert.ok(sample(text, 'nodejs_gc_duration_seconds_count{kind="minor"}') > 0);
  assert.ok(sample(text, 'nodejs_active_handles') >= 0 && sample(text, 'nodejs_active_requests') >= 0);

  const [major, minor, patch] = process.version.slice(1).split('.');
  assert.equal(
    sample(
      text,
      `nodejs_version_info{major="${major}",minor="${minor}",patch="${patch}",version="${process.version}"}`,
    ),
    1,
  );

  // Nothing started by start() survives close(): no resource type is more numerous than before.
  await sleep(5);
  for (const [name, n] of tally(process.getActiveResourcesInfo())) {
    assert.ok(n <= (before.get(name) ?? 0), `${name} left behind after close()`);
  }
});

it('registers nothing running and lives only in the process and nodejs groups', () => {
  const store = new MetricStore();
  const resources = process.getActiveResourcesInfo().length;
  registerProcessMetrics(store);
  new NodeRuntimeMetrics(store); // constructed, never started
  assert.equal(process.getActiveResourcesInfo().length, resources);

  assert.deepEqual(store.snapshot(new Set(['otel'])).families, []);
  for (const f of store.families(new Set(['process']))) assert.match(f.name, /^process_/);
  for (const f of store.families(new Set(['nodejs']))) assert.match(f.name, /^nodejs_/);
  assert.equal(store.families(new Set(['process', 'nodejs'])).length, store.families().length);

  // Never started: the event-loop gauges stay at 0 rather than inventing data.
  const text = renderPrometheusText(store.snapshot(new Set(['nodejs'])));
  assert.equal(sample(text, 'nodejs_eventloop_utilization_ratio'), 0);
  assert.ok(sample(text, 'nodejs_heap_size_used_bytes') > 0);
});

it('classifies libuv requests apart from handles', () => {
  for (const r of ['FSReqCallback', 'FSReqPromise', 'CloseReq', 'GetAddrInfoReqWrap', 'WriteWrap', 'ShutdownWrap'])
    assert.ok(isRequestResource(r), r);
  for (const h of ['TCPSocketWrap', 'TCPServerWrap', 'TTYWrap', 'PipeWrap', 'Timeout', 'Immediate'])
    assert.ok(!isRequestResource(h), h);
});

/**
 * An idle worker's event loop is woken by the delay monitor's timer alone: at prom-client's 10 ms that
 * is 100 wake-ups a second, which cost more CPU than the rest of an idle gateway (bench/idle-cpu.ts).
 * Counted in a child process (the test runner has timers of its own), on its main thread only (V8's
 * helper threads wake for their own reasons), after start-up has settled.
 */
it(
  'the delay monitor wakes an idle event loop 10 times a second, not 100',
  {
    skip: LINUX ? false : 'counts wake-ups in /proc/self/task/<pid>/status (Linux only)',
  },
  async () => {
    // The sources this file imports (through tsx, as the test runs), not a build that may be older.
    const module = new URL('../../../src/telemetry/runtime/nodejs-metrics.js', import.meta.url).href;
    const store = new URL('../../../src/telemetry/store/store.js', import.meta.url).href;
    const script = `
    import { readFileSync } from 'node:fs';
    import { setTimeout as sleep } from 'node:timers/promises';
    const { NodeRuntimeMetrics } = await import(${JSON.stringify(module)});
    const { MetricStore } = await import(${JSON.stringify(store)});
    const woken = () => Number(/^voluntary_ctxt_switches:\\s+(\\d+)/m.exec(readFileSync('/proc/self/task/' + process.pid + '/status', 'utf8'))[1]);
    const runtime = new NodeRuntimeMetrics(new MetricStore());
    runtime.start();
    await sleep(500);
    const before = woken();
    await sleep(2000);
    const after = woken();
    runtime.close();
    process.stdout.write(String((after - before) / 2));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        timeout: 30_000,
      },
    );
    const perSecond = Number(stdout);
    // The monitor runs (its samples are the lag gauges) and wakes the loop 10 times a second, not 100;
    // the 2 s sleep's own wake-up and the odd GC task come on top.
    assert.ok(perSecond >= 5 && perSecond <= 20, `${perSecond} wake-ups a second at ${LAG_RESOLUTION_MS} ms`);
  },
);
