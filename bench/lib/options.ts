// Command-line options for bench/proxy.ts. Defaults are sized for a 2-core
// machine and keep a full run (7 rows) comfortably under two minutes.

import { intArg, toolArg } from './args.js';
import { parseFlags } from './driver.js';
import type { LoadToolChoice } from './load-generator.js';
import { LOAD_RUN_FLAGS, loadRunOptions, type LoadRunOptions } from './run-options.js';

export interface BenchOptions extends LoadRunOptions {
  readonly nativeWorkers: number;
  readonly tool: LoadToolChoice;
  /** Target names to run, or undefined for all. */
  readonly targets: readonly string[] | undefined;
  /** Tollgate launcher; another checkout's bin/tollgate.js compares builds. */
  readonly tollgateBin: string | undefined;
}

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

/** The options, or undefined when -h/--help asks for the usage. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions | undefined {
  const values = parseFlags(argv, [...LOAD_RUN_FLAGS, 'native-workers', 'tool', 'targets', 'tollgate-bin']);
  if (values === undefined) return undefined;
  const targets = values.targets
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return {
    ...loadRunOptions(values, { duration: 8, warmup: 2, rounds: 1 }),
    nativeWorkers: intArg('native-workers', values['native-workers'], 1),
    tool: toolArg(values.tool),
    targets: targets === undefined || targets.length === 0 ? undefined : targets,
    tollgateBin: values['tollgate-bin'],
  };
}
