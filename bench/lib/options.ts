// Command-line options for bench/proxy.ts. Defaults are sized for a 2-core
// machine and keep a full run (7 rows) comfortably under two minutes.

import { parseArgs } from 'node:util';
import type { LoadToolChoice } from './load-generator.js';

export interface BenchOptions {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly payloadBytes: number;
  /** wrk threads; 1 leaves the other core to the proxy under test. */
  readonly threads: number;
  readonly rounds: number;
  readonly timeoutSeconds: number;
  readonly nativeWorkers: number;
  readonly tool: LoadToolChoice;
  /** Target names to run, or undefined for all. */
  readonly targets: readonly string[] | undefined;
  /** Tollgate launcher; another checkout's bin/tollgate.js compares builds. */
  readonly tollgateBin: string | undefined;
}

export type ParsedArgs = { readonly help: true } | { readonly help: false; readonly options: BenchOptions };

export const USAGE = `Usage: node --import tsx bench/proxy.ts [options]

  --duration <s>        measured seconds per target and round  (default 8)
  --warmup <s>          unmeasured warm-up seconds before each (default 2)
  --connections <n>     concurrent client connections           (default 50)
  --payload <bytes>     upstream response body size             (default 1024)
  --threads <n>         wrk threads                             (default 1)
  --rounds <n>          repeat every target n times, interleaved;
                        the median round is reported           (default 1)
  --timeout <s>         per-request timeout, counted as error   (default 5)
  --native-workers <n>  nginx worker processes / HAProxy threads (default 1)
  --tool <name>         auto | wrk | autocannon                 (default auto)
  --targets <list>      comma-separated subset, e.g. floor,tollgate
                        (direct,floor,tollgate,fastify,nginx,haproxy,fast-gateway)
  --tollgate-bin <path> Tollgate launcher to run (default: <repo>/bin/tollgate.js);
                        its checkout must have dist/ built
  -h, --help            show this help
`;

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function toolChoice(raw: string | undefined): LoadToolChoice {
  if (raw === undefined || raw === 'auto' || raw === 'wrk' || raw === 'autocannon') return raw ?? 'auto';
  throw new Error(`--tool must be auto, wrk or autocannon, got "${raw}"`);
}

export function parseBenchOptions(argv: readonly string[]): ParsedArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      payload: { type: 'string' },
      threads: { type: 'string' },
      rounds: { type: 'string' },
      timeout: { type: 'string' },
      'native-workers': { type: 'string' },
      tool: { type: 'string' },
      targets: { type: 'string' },
      'tollgate-bin': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const targets = values.targets
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (values.help) return { help: true };
  const options: BenchOptions = {
    durationSeconds: positiveInt('duration', values.duration, 8),
    warmupSeconds: positiveInt('warmup', values.warmup, 2, 0),
    connections: positiveInt('connections', values.connections, 50),
    payloadBytes: positiveInt('payload', values.payload, 1024, 0),
    threads: positiveInt('threads', values.threads, 1),
    rounds: positiveInt('rounds', values.rounds, 1),
    timeoutSeconds: positiveInt('timeout', values.timeout, 5),
    nativeWorkers: positiveInt('native-workers', values['native-workers'], 1),
    tool: toolChoice(values.tool),
    targets: targets === undefined || targets.length === 0 ? undefined : targets,
    tollgateBin: values['tollgate-bin'],
  };
  return { help: false, options };
}
