// The @opentelemetry/sdk-metrics side of bench/telemetry-record.ts: the instruments krakend-otel
// creates, with the same names, buckets and attributes, and one request recorded the krakend-otel
// way (attributes built per request) or with attribute objects built once (the SDK's best case).

import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { RequestRecord } from '../../src/telemetry/record.js';

/** Collects only on demand (never, here): the SDK's own accumulation is what is measured. */
export class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

interface SdkInstruments {
  readonly serverDuration: Histogram;
  readonly serverSize: Histogram;
  readonly proxyDuration: Histogram;
  readonly backendDuration: Histogram;
  readonly clientDuration: Histogram;
  readonly clientResponseSize: Histogram;
  readonly clientRequestSize: Counter;
  readonly started: Counter;
  readonly failed: Counter;
  readonly canceled: Counter;
  readonly timedout: Counter;
  readonly noContentLength: Counter;
  readonly getConn: Histogram;
  readonly dns: Histogram;
  readonly tls: Histogram;
  readonly readSize: Counter;
  readonly readSizeHist: Histogram;
  readonly readTime: Counter;
  readonly readTimeHist: Histogram;
}

function sdkInstruments(meter: Meter, time: readonly number[], size: readonly number[]): SdkInstruments {
  const th = (name: string): Histogram =>
    meter.createHistogram(name, { unit: 's', advice: { explicitBucketBoundaries: [...time] } });
  const sh = (name: string): Histogram =>
    meter.createHistogram(name, { unit: 'By', advice: { explicitBucketBoundaries: [...size] } });
  return {
    serverDuration: th('http.server.duration'),
    serverSize: sh('http.server.response.size'),
    proxyDuration: th('krakend.proxy.duration'),
    backendDuration: th('krakend.backend.duration'),
    clientDuration: th('http.client.duration'),
    clientResponseSize: sh('http.client.response.size'),
    clientRequestSize: meter.createCounter('http.client.request.size', { unit: 'By' }),
    started: meter.createCounter('http.client.request.started.count'),
    failed: meter.createCounter('http.client.request.failed.count'),
    canceled: meter.createCounter('http.client.request.canceled.count'),
    timedout: meter.createCounter('http.client.request.timedout.count'),
    noContentLength: meter.createCounter('http.client.response.no-content-length'),
    getConn: th('http.client.request.get-conn.duration'),
    dns: th('http.client.request.dns.duration'),
    tls: th('http.client.request.tls.duration'),
    readSize: meter.createCounter('http.client.response.read.size', { unit: 'By' }),
    readSizeHist: sh('http.client.response.read.size-hist'),
    readTime: meter.createCounter('http.client.response.read.time', { unit: 's' }),
    readTimeHist: th('http.client.response.read.time-hist'),
  };
}

/** What krakend-otel knows at config time about one backend (its fixed attribute values). */
interface SdkBackend {
  readonly method: string;
  readonly route: string;
  readonly endpointRoute: string;
  readonly endpointMethod: string;
  readonly serverAddress: string;
  readonly serverPort: number;
  /** Pre-built attribute objects (the "pre-built" variant). */
  readonly stageAttrs: Attributes;
  readonly roundTripAttrs: Attributes;
  readonly readAttrs: Attributes;
}

export interface SdkVariant {
  readonly provider: MeterProvider;
  readonly reader: OnDemandReader;
  readonly i: SdkInstruments;
  readonly rec: RequestRecord;
  readonly endpointMethod: string;
  readonly endpointRoute: string;
  readonly backends: readonly SdkBackend[];
  readonly globalAttrs: Attributes;
  readonly proxyAttrs: Attributes;
}

/** `rec`: the finished request every call records; `buckets`: Tollgate's, so both sides fill the same histograms. */
export function sdkVariant(
  backends: number,
  buckets: { readonly timeBuckets: readonly number[]; readonly sizeBuckets: readonly number[] },
  rec: RequestRecord,
  upstream: string,
): SdkVariant {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('io.krakend.krakend-otel');
  const i = sdkInstruments(meter, buckets.timeBuckets, buckets.sizeBuckets);
  const endpointMethod = 'GET';
  const endpointRoute = '/users/:id';
  const u = new URL(upstream);
  const list: SdkBackend[] = Array.from({ length: backends }, (_, b) => {
    const route = b === 0 ? '/users/:id' : `/users/:id/extra-${b}`;
    const fixed = {
      'http.request.method': 'GET',
      'http.route': route,
      'krakend.endpoint.route': endpointRoute,
      'krakend.endpoint.method': endpointMethod,
    };
    return {
      method: 'GET',
      route,
      endpointRoute,
      endpointMethod,
      serverAddress: u.hostname,
      serverPort: Number(u.port),
      stageAttrs: { ...fixed, error: false, canceled: false, complete: true },
      roundTripAttrs: {
        ...fixed,
        clientname: route,
        'server.address': u.hostname,
        'server.port': Number(u.port),
        'http.response.status_code': 200,
      },
      readAttrs: fixed,
    };
  });
  return {
    provider,
    reader,
    i,
    rec,
    endpointMethod,
    endpointRoute,
    backends: list,
    globalAttrs: {
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'http.route': endpointRoute,
      'http.response.status_code': 200,
    },
    proxyAttrs: {
      'http.request.method': 'GET',
      'http.route': endpointRoute,
      error: false,
      canceled: false,
      complete: true,
    },
  };
}

/**
 * One request the krakend-otel way: attribute objects built per request from
 * the config-time strings and the request's dynamic values (status, flags),
 * then handed to every instrument of the layer.
 */
function sdkRequestPerRequestAttrs(v: SdkVariant): void {
  const { i, rec } = v;
  const status = rec.status;
  const global: Attributes = {
    'http.request.method': v.endpointMethod,
    'url.scheme': 'http',
    'http.route': v.endpointRoute,
    'http.response.status_code': status,
  };
  i.serverDuration.record((rec.end - rec.start) / 1000, global);
  i.serverSize.record(rec.bytesOut, global);
  i.proxyDuration.record((rec.proxyEnd - rec.proxyStart) / 1000, {
    'http.request.method': v.endpointMethod,
    'http.route': v.endpointRoute,
    error: rec.proxyError,
    canceled: rec.proxyCanceled,
    complete: rec.proxyComplete,
  });
  const brs = rec.backends ?? [];
  for (let k = 0; k < brs.length; k++) {
    const br = brs[k];
    const b = v.backends[k];
    if (br === undefined || b === undefined) continue;
    i.backendDuration.record((br.stageEnd - br.stageStart) / 1000, {
      'http.request.method': b.method,
      'http.route': b.route,
      'krakend.endpoint.route': b.endpointRoute,
      'krakend.endpoint.method': b.endpointMethod,
      error: br.stageError,
      canceled: br.stageCanceled,
      complete: br.stageComplete,
    });
    const rt: Attributes = {
      'http.request.method': b.method,
      'http.route': b.route,
      'krakend.endpoint.route': b.endpointRoute,
      'krakend.endpoint.method': b.endpointMethod,
      clientname: b.route,
      'server.address': b.serverAddress,
      'server.port': b.serverPort,
      'http.response.status_code': br.status,
    };
    i.started.add(1, rt);
    i.clientDuration.record((br.headersAt - br.dispatchAt) / 1000, rt);
    i.clientRequestSize.add(br.requestSize, rt);
    i.clientResponseSize.record(br.contentLength, rt);
    i.getConn.record((br.connectedAt - br.dispatchAt) / 1000, rt);
    i.dns.record(0, rt);
    i.tls.record(0, rt);
    const read: Attributes = {
      'http.request.method': b.method,
      'http.route': b.route,
      'krakend.endpoint.route': b.endpointRoute,
      'krakend.endpoint.method': b.endpointMethod,
    };
    const seconds = (br.bodyEndAt - br.headersAt) / 1000;
    i.readSize.add(br.readBytes, read);
    i.readSizeHist.record(br.readBytes, read);
    i.readTime.add(seconds, read);
    i.readTimeHist.record(seconds, read);
  }
}

/** The same calls with attribute objects built once at start-up (the SDK's best case). */
function sdkRequestPrebuiltAttrs(v: SdkVariant): void {
  const { i, rec } = v;
  const global = v.globalAttrs;
  i.serverDuration.record((rec.end - rec.start) / 1000, global);
  i.serverSize.record(rec.bytesOut, global);
  i.proxyDuration.record((rec.proxyEnd - rec.proxyStart) / 1000, v.proxyAttrs);
  const brs = rec.backends ?? [];
  for (let k = 0; k < brs.length; k++) {
    const br = brs[k];
    const b = v.backends[k];
    if (br === undefined || b === undefined) continue;
    i.backendDuration.record((br.stageEnd - br.stageStart) / 1000, b.stageAttrs);
    const rt = b.roundTripAttrs;
    i.started.add(1, rt);
    i.clientDuration.record((br.headersAt - br.dispatchAt) / 1000, rt);
    i.clientRequestSize.add(br.requestSize, rt);
    i.clientResponseSize.record(br.contentLength, rt);
    i.getConn.record((br.connectedAt - br.dispatchAt) / 1000, rt);
    i.dns.record(0, rt);
    i.tls.record(0, rt);
    const read = b.readAttrs;
    const seconds = (br.bodyEndAt - br.headersAt) / 1000;
    i.readSize.add(br.readBytes, read);
    i.readSizeHist.record(br.readBytes, read);
    i.readTime.add(seconds, read);
    i.readTimeHist.record(seconds, read);
  }
}

// Separate loop functions (not one loop over a callback) keep every call site monomorphic.
export function runSdkPerRequest(v: SdkVariant, n: number): void {
  for (let k = 0; k < n; k++) sdkRequestPerRequestAttrs(v);
}

export function runSdkPrebuilt(v: SdkVariant, n: number): void {
  for (let k = 0; k < n; k++) sdkRequestPrebuiltAttrs(v);
}

/** Series and histogram observations the SDK accumulated (the sanity check of the bench). */
export async function sdkTotals(
  reader: OnDemandReader,
): Promise<{ readonly observations: number; readonly series: number }> {
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new Error(`sdk collect errors: ${errors.map(String).join('; ')}`);
  let observations = 0;
  let series = 0;
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) {
      for (const p of m.dataPoints) {
        series++;
        const v = p.value as number | { count: number };
        if (typeof v === 'object') observations += v.count;
      }
    }
  }
  return { observations, series };
}
