/**
 * `migrate --from opencensus` as a pure conversion, on the inputs KrakenD documents: the Prometheus
 * example of https://www.krakend.io/docs/telemetry/prometheus/, the Datadog example of
 * https://www.krakend.io/docs/v2.4/telemetry/datadog/, the exporter shapes of
 * https://www.krakend.io/docs/telemetry/opencensus/, and a real playground file. Every output is loaded by the real config loader.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigValue } from '../../../src/config/load.js';
import { migrateOpencensus } from '../../../src/migrate/opencensus.js';
import { MigrationInputError, type MigrationNote } from '../../../src/migrate/report.js';

const NS = 'extra_config["telemetry/opencensus"]';
type Obj = Record<string, unknown>;

function otelOf(config: Obj): Obj {
  return (config.extra_config as Obj)['telemetry/opentelemetry'] as Obj;
}

function noteAt(notes: readonly MigrationNote[], path: string): string {
  const found = notes.filter((n) => n.path === path);
  assert.equal(found.length, 1, `one note at ${path}, got: ${JSON.stringify(notes.map((n) => n.path))}`);
  return (found[0] as MigrationNote).message;
}

function inputIssues(input: unknown): string[] {
  try {
    migrateOpencensus(input);
  } catch (err) {
    assert.ok(err instanceof MigrationInputError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the input to be rejected');
}

// seed 000 (krakend-documentation telemetry/prometheus.md, "Migrating from an old OpenCensus configuration")
const SEED = {
  version: 3,
  extra_config: {
    'telemetry/opencensus': {
      sample_rate: 100,
      reporting_period: 0,
      exporters: {
        prometheus: {
          port: 9091,
          namespace: 'krakend',
          tag_host: false,
          tag_path: true,
          tag_method: true,
          tag_statuscode: false,
        },
      },
    },
  },
};

describe('migrate --from opencensus', () => {
  it('applies the documented Prometheus rules to the documented example, field by field', () => {
    const { config, notes } = migrateOpencensus(SEED);
    const extra = config.extra_config as Obj;
    assert.deepEqual(Object.keys(extra), ['telemetry/opentelemetry']);
    // rename namespace, delete sample_rate, reporting_period → metric_reporting_period,
    // prometheus object → array, namespace → name, tag_* deleted
    assert.deepEqual(otelOf(config), {
      metric_reporting_period: 0,
      exporters: { prometheus: [{ name: 'krakend', port: 9091 }] },
    });
    for (const tag of ['tag_host', 'tag_path', 'tag_method', 'tag_statuscode'])
      assert.match(noteAt(notes, `${NS}.exporters.prometheus.${tag}`), /^dropped/);
    assert.match(noteAt(notes, `${NS}.sample_rate`), /dropped: no exporter that sends traces/);
    const { config: loaded, warnings } = loadConfigValue(config, 'out.json');
    assert.deepEqual(warnings, []);
    assert.equal(loaded.otel?.prometheus[0]?.name, 'krakend');
    assert.equal(loaded.otel?.prometheus[0]?.port, 9091);
    assert.equal(
      loaded.otel?.metricReportingPeriodS,
      30,
      'a period of 0 means the default, in OpenCensus and in OpenTelemetry',
    );
  });

  it('does not change its input', () => {
    const before = JSON.stringify(SEED);
    migrateOpencensus(SEED);
    assert.equal(JSON.stringify(SEED), before);
  });

  it('reads the legacy namespace name and keeps the position of the key among the others', () => {
    const { config, notes } = migrateOpencensus({
      version: 3,
      extra_config: {
        'telemetry/logging': { level: 'INFO' },
        'github_com/devopsfaith/krakend-opencensus': { exporters: { prometheus: { port: 9091 } } },
        'security/cors': { allow_origins: ['*'] },
      },
    });
    assert.deepEqual(Object.keys(config.extra_config as Obj), [
      'telemetry/logging',
      'telemetry/opentelemetry',
      'security/cors',
    ]);
    assert.deepEqual(otelOf(config).exporters, { prometheus: [{ name: 'prometheus', port: 9091 }] });
    assert.ok(notes.every((n) => n.path.startsWith('extra_config["github_com/devopsfaith/krakend-opencensus"]')));
  });

  it('maps Datadog (datadog.md) to an OTLP entry and keeps the sample rate as a ratio', () => {
    const { config, notes } = migrateOpencensus({
      version: 3,
      extra_config: {
        'telemetry/opencensus': {
          sample_rate: 20,
          reporting_period: 5,
          exporters: {
            datadog: {
              tags: ['gw'],
              global_tags: { env: 'prod' },
              disable_count_per_buckets: true,
              trace_address: 'ddagent:8126',
              stats_address: 'ddagent:8125',
              namespace: 'krakend',
              service: 'gateway',
            },
          },
        },
      },
    });
    assert.deepEqual(otelOf(config), {
      service_name: 'gateway',
      metric_reporting_period: 5,
      trace_sample_rate: 0.2,
      exporters: { otlp: [{ name: 'krakend', host: 'ddagent', port: 4317 }] },
    });
    for (const k of ['tags', 'global_tags', 'disable_count_per_buckets'])
      assert.match(noteAt(notes, `${NS}.exporters.datadog.${k}`), /no OTLP equivalent/);
    for (const k of ['trace_address', 'stats_address'])
      assert.match(noteAt(notes, `${NS}.exporters.datadog.${k}`), /OTLP receiver \(port 4317\)/);
    assert.match(noteAt(notes, `${NS}.sample_rate`), /"trace_sample_rate": 0\.2/);
    const loaded = loadConfigValue(config, 'out.json').config;
    assert.equal(loaded.otel?.traceSampleRate, 0.2);
    assert.equal(loaded.otel?.otlp[0]?.port, 4317);
    assert.equal(loaded.otel?.otlp[0]?.useHttp, false);
  });

  it('carries Jaeger and an OpenCensus agent over OTLP, reports the exporters without an OTLP endpoint', () => {
    const { config, notes } = migrateOpencensus({
      version: 3,
      extra_config: {
        'telemetry/opencensus': {
          sample_rate: 100,
          exporters: {
            prometheus: { port: 9091, namespace: 'krakend' },
            jaeger: { agent_endpoint: 'jaeger:6831', service_name: 'krakend-gw', buffer_max_count: 100 },
            ocagent: {
              address: 'otel-collector:55678',
              service_name: 'other-name',
              headers: { 'x-tenant': 'a' },
              insecure: true,
              reconnection: '2s',
              enable_compression: true,
            },
            datadog: { namespace: 'krakend', trace_address: 'localhost:8126' },
            zipkin: { collector_url: 'http://zipkin:9411/api/v2/spans', service_name: 'krakend' },
            xray: { region: 'eu-west-1', version: 'KrakenD-opencensus' },
            stackdriver: { project_id: 'p', default_labels: {} },
            logger: { stats: true, spans: true },
            newrelic: { license: 'x' },
          },
        },
      },
    });
    const otel = otelOf(config);
    assert.equal(otel.service_name, 'krakend-gw');
    assert.equal(otel.trace_sample_rate, 1);
    assert.deepEqual(otel.exporters, {
      prometheus: [{ name: 'krakend', port: 9091 }],
      otlp: [
        { name: 'jaeger', host: 'jaeger', port: 4317, disable_metrics: true },
        { name: 'ocagent', host: 'otel-collector', port: 4317, headers: { 'x-tenant': 'a' } },
        { name: 'krakend_2', host: 'localhost', port: 4317 },
      ],
    });
    assert.match(noteAt(notes, `${NS}.exporters.jaeger.buffer_max_count`), /dropped/);
    assert.match(
      noteAt(notes, `${NS}.exporters.ocagent.service_name`),
      /"other-name" not carried over: OpenTelemetry has one service_name/,
    );
    for (const k of ['reconnection', 'enable_compression'])
      assert.match(noteAt(notes, `${NS}.exporters.ocagent.${k}`), /dropped/);
    for (const k of ['zipkin', 'xray', 'stackdriver', 'logger', 'newrelic'])
      assert.match(noteAt(notes, `${NS}.exporters.${k}`), /^not carried over: /);
    assert.match(noteAt(notes, `${NS}.exporters.zipkin`), /OpenTelemetry Collector with a zipkin exporter/);
    assert.ok(
      notes.some(
        (n) =>
          n.path === `${NS}.exporters` &&
          /"krakend" is used twice: the second one is named "krakend_2"/.test(n.message),
      ),
    );
    loadConfigValue(config, 'out.json');
  });

  it('an ocagent without "insecure" dialed TLS: the OTLP host says https://', () => {
    const { config } = migrateOpencensus({
      version: 3,
      extra_config: {
        'telemetry/opencensus': {
          sample_rate: 50,
          exporters: { ocagent: { address: 'collector:55678', service_name: 'gw' } },
        },
      },
    });
    assert.deepEqual((otelOf(config).exporters as Obj).otlp, [
      { name: 'ocagent', host: 'https://collector', port: 4317 },
    ]);
  });

  it('sample_rate 0 (OpenCensus never sampled): the migrated trace exporters keep traces off', () => {
    for (const sampling of [{ sample_rate: 0 }, {}]) {
      const { config, notes } = migrateOpencensus({
        version: 3,
        extra_config: {
          'telemetry/opencensus': {
            ...sampling,
            exporters: { datadog: { namespace: 'dd' }, jaeger: { endpoint: 'http://jaeger:14268/api/traces' } },
          },
        },
      });
      const otel = otelOf(config);
      assert.equal(otel.trace_sample_rate, undefined);
      assert.deepEqual((otel.exporters as Obj).otlp, [
        { name: 'dd', host: 'localhost', port: 4317, disable_traces: true },
        { name: 'jaeger', host: 'jaeger', port: 4317, disable_metrics: true, disable_traces: true },
      ]);
      assert.match(noteAt(notes, `${NS}.sample_rate`), /never sampled a trace/);
    }
  });

  it('enabled_layers: absent = all on; present = only the layers set to true, as krakend-opencensus reads it', () => {
    const layersOf = (enabled: unknown): unknown =>
      otelOf(
        migrateOpencensus({
          version: 3,
          extra_config: {
            'telemetry/opencensus': {
              ...(enabled === undefined ? {} : { enabled_layers: enabled }),
              exporters: { prometheus: { port: 9091 } },
            },
          },
        }).config,
      ).layers;
    assert.equal(layersOf(undefined), undefined);
    assert.equal(layersOf({ router: true, pipe: true, backend: true }), undefined);
    assert.deepEqual(layersOf({ router: true, backend: true }), {
      proxy: { disable_metrics: true, disable_traces: true },
    });
    const off = migrateOpencensus({
      version: 3,
      extra_config: {
        'telemetry/opencensus': {
          enabled_layers: { router: false, pipe: false, backend: false },
          exporters: { prometheus: { port: 9091 } },
        },
      },
    }).config;
    assert.deepEqual(otelOf(off).layers, {
      global: { disable_metrics: true, disable_traces: true },
      proxy: { disable_metrics: true, disable_traces: true },
      backend: { metrics: { disable_stage: true }, traces: { disable_stage: true } },
    });
    // KrakenD reads a present sub-object literally: the whole backend layer is off, round trip included.
    const otel = loadConfigValue(off, 'out.json').config.otel;
    assert.equal(otel?.global.disableMetrics, true);
    assert.equal(otel?.proxy.disableTraces, true);
    assert.deepEqual(
      [
        otel?.backend.metrics.disableStage,
        otel?.backend.metrics.roundTrip,
        otel?.backend.metrics.readPayload,
        otel?.backend.traces.detailedConnection,
      ],
      [true, false, false, false],
    );
  });

  it('removes endpoint- and backend-level path_aggregation, noting each one', () => {
    const { config, notes } = migrateOpencensus({
      ...SEED,
      host: ['http://127.0.0.1:9'],
      endpoints: [
        {
          endpoint: '/a/{id}',
          extra_config: {
            'telemetry/opencensus': { path_aggregation: 'lastparam' },
            'qos/ratelimit/router': { max_rate: 5 },
          },
          backend: [{ url_pattern: '/a', extra_config: { 'github_com/devopsfaith/krakend-opencensus': {} } }],
        },
        {
          endpoint: '/b',
          extra_config: { 'telemetry/opencensus': { path_aggregation: 'pattern' } },
          backend: [{ url_pattern: '/b' }],
        },
      ],
    });
    const eps = config.endpoints as Obj[];
    assert.deepEqual(eps[0]?.extra_config, { 'qos/ratelimit/router': { max_rate: 5 } });
    assert.equal((eps[0]?.backend as Obj[])[0]?.extra_config, undefined);
    assert.equal(eps[1]?.extra_config, undefined);
    assert.match(
      noteAt(notes, 'endpoints[0].extra_config["telemetry/opencensus"]'),
      /"path_aggregation": "lastparam" has no equivalent/,
    );
    assert.match(
      noteAt(notes, 'endpoints[0].backend[0].extra_config["github_com/devopsfaith/krakend-opencensus"]'),
      /as "path_aggregation": "pattern" did/,
    );
    assert.match(
      noteAt(notes, 'endpoints[1].extra_config["telemetry/opencensus"]'),
      /always labels by the route pattern/,
    );
  });

  it('keeps an InfluxDB destination through telemetry/influx, collected as often as OpenCensus reported', () => {
    const { config, notes } = migrateOpencensus({
      version: 3,
      extra_config: {
        'telemetry/opencensus': {
          reporting_period: 15,
          exporters: {
            influxdb: {
              address: 'http://influxdb:8086',
              db: 'krakend',
              username: 'u',
              password: 'p',
              timeout: '1s',
              buffer_size: 100,
            },
          },
        },
      },
    });
    const extra = config.extra_config as Obj;
    assert.equal(extra['telemetry/opentelemetry'], undefined, 'no OpenTelemetry exporter, so no namespace');
    assert.deepEqual(extra['telemetry/influx'], {
      address: 'http://influxdb:8086',
      ttl: '15s',
      db: 'krakend',
      username: 'u',
      password: 'p',
      buffer_size: 100,
    });
    assert.deepEqual(extra['telemetry/metrics'], { collection_time: '15s', endpoint_disabled: true });
    assert.match(noteAt(notes, `${NS}.exporters.influxdb.timeout`), /dropped/);
    assert.match(noteAt(notes, NS), /no "telemetry\/opentelemetry" is written/);
    const loaded = loadConfigValue(config, 'out.json').config;
    assert.equal(loaded.influx?.address, 'http://influxdb:8086');
    assert.equal(loaded.stats?.endpointDisabled, true);
  });

  it('migrates the real playground-community file into one that loads', () => {
    const file = join(import.meta.dirname, '../../fixtures/krakend-examples/playground-community.json');
    const { config, notes } = migrateOpencensus(JSON.parse(readFileSync(file, 'utf8')));
    assert.deepEqual(otelOf(config), {
      service_name: 'krakend',
      metric_reporting_period: 1,
      trace_sample_rate: 1,
      exporters: { otlp: [{ name: 'jaeger', host: 'jaeger', port: 4317, disable_metrics: true }] },
      layers: { proxy: { disable_metrics: true, disable_traces: true } },
    });
    assert.match(noteAt(notes, `${NS}.enabled_layers.pipe`), /not set: OpenCensus left the pipe layer off/);
    assert.equal(
      loadConfigValue(config, 'out.json', { allowUnenforced: true }).config.otel?.otlp[0]?.disableMetrics,
      true,
    );
  });

  it('rejects what it cannot migrate, naming every problem and its path', () => {
    assert.deepEqual(inputIssues({ version: 2 }), ['version: must be a KrakenD v3 configuration ("version": 3)']);
    assert.deepEqual(inputIssues({ version: 3, endpoints: [] }), [
      'extra_config: has no "telemetry/opencensus" (or "github_com/devopsfaith/krakend-opencensus") namespace: nothing to migrate',
    ]);
    assert.deepEqual(
      inputIssues({
        version: 3,
        extra_config: {
          'telemetry/opencensus': { exporters: { prometheus: { port: 9091 } } },
          'telemetry/opentelemetry': { exporters: {} },
        },
      }),
      [
        'extra_config["telemetry/opentelemetry"]: is already present: merge the telemetry/opencensus settings into it by hand, or remove one of the two',
      ],
    );
    assert.deepEqual(
      inputIssues({
        version: 3,
        extra_config: {
          'telemetry/opencensus': {
            reporting_period: '1s',
            sample_rate: 'all',
            exporters: { prometheus: { port: 'x' }, influxdb: { db: 'k' } },
          },
        },
      }),
      [
        `${NS}.reporting_period: must be a whole number of seconds`,
        `${NS}.exporters.prometheus.port: must be a port number (0-65535)`,
        `${NS}.exporters.influxdb.address: must be the InfluxDB URL (http:// or https://)`,
        `${NS}.sample_rate: must be a number (a percentage)`,
      ],
    );
    assert.deepEqual(inputIssues({ version: 3, extra_config: { 'telemetry/opencensus': { exporters: [] } } }), [
      `${NS}.exporters: must be an object of exporters`,
    ]);
  });
});
