// CPU per JWT check of an endpoint's `auth/validator` with its key already cached, in one process:
//
//   node --import tsx bench/jwt-cost.ts [--tokens 2000] [--repeats 5]
//
// Per algorithm (RS256, ES256, HS256, EdDSA), two rows:
//   fresh token   a token the gateway has not seen: header decode, key from the cache, the signature
//                 verified with `jose` (WebCrypto), the claims checked;
//   same token    the client's token again (the usual case: a token is reused until it expires): the
//                 remembered verdict, the key still the fresh one, the claims checked again.
// Both include extracting the token from the headers and the roles check. The issue-21 target is
// <= 10 µs per request with a cached key. CPU is process.cpuUsage (every thread: WebCrypto runs its
// jobs on the libuv pool), median of the repeats.

import { Writable } from 'node:stream';
import { JwtValidators } from '../src/auth/jwt-validators.js';
import type { JwtValidator } from '../src/auth/jwt-validator.js';
import { parseAuthValidator } from '../src/config/namespaces/auth-validator.js';
import { createLogger } from '../src/log/logger.js';
import { makeKey, sign, type TestAlg } from '../test/helpers/jwt.js';
import {
  exitOnHelp,
  foreignLoadLines,
  intOption,
  machineSummary,
  median,
  quietCheck,
  startForeignLoadMeter,
  timeAsync,
} from './lib/micro.js';
import { firstColumnLeft, textTable } from './lib/text-table.js';

const argv = process.argv.slice(2);
exitOnHelp(
  argv,
  'Usage: node --import tsx bench/jwt-cost.ts [options]\n' +
    '  --tokens N    checks per timed repeat (distinct tokens for the "fresh" rows)  (default 2000)\n' +
    '  --repeats N   timed repeats per row; median                                   (default 5)\n',
);
const TOKENS = intOption(argv, 'tokens', 2000);
const REPEATS = intOption(argv, 'repeats', 5);
const ALGS: readonly TestAlg[] = ['RS256', 'ES256', 'HS256', 'EdDSA'];
const TARGET_US = 10;

const silent = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

async function validatorFor(alg: TestAlg): Promise<{ v: JwtValidator; tokens: string[] }> {
  const key = await makeKey(alg, `${alg}-bench`);
  const settings = {
    ...parseAuthValidator({ alg, jwk_url: 'https://idp.invalid/jwks', roles: ['user'] }),
    origin: { kind: 'file' as const, path: '(memory)', jwks: { keys: [key.jwk] } },
  };
  const v = new JwtValidators({ userAgent: 'bench', logger: silent }).forEndpoint(settings);
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS * (REPEATS + 1); i++)
    tokens.push(await sign(key, { sub: `user-${i}`, roles: ['user'], iss: 'https://idp', exp, jti: String(i) }));
  return { v, tokens };
}

async function checkAll(v: JwtValidator, tokens: readonly string[]): Promise<void> {
  for (const t of tokens) {
    const r = v.check({ authorization: `Bearer ${t}` });
    const verdict = r instanceof Promise ? await r : r;
    if (!verdict.ok) throw new Error(`refused: ${verdict.reason}`);
  }
}

const quiet = await quietCheck();
console.log(`jwt-cost: ${machineSummary()}; ${TOKENS} checks per repeat, ${REPEATS} repeats (median)`);
const rows: string[][] = [];
let worstSame = 0;
const foreign = startForeignLoadMeter();
for (const alg of ALGS) {
  const { v, tokens } = await validatorFor(alg);
  // Warm-up: loads the key set, JITs both paths.
  await checkAll(v, tokens.slice(0, TOKENS));
  const fresh: number[] = [];
  const same: number[] = [];
  for (let r = 1; r <= REPEATS; r++) {
    const batch = tokens.slice(r * TOKENS, (r + 1) * TOKENS);
    fresh.push((await timeAsync(() => checkAll(v, batch))).cpuNs / TOKENS / 1000);
    const one = Array.from({ length: TOKENS }, () => batch[0] as string);
    same.push((await timeAsync(() => checkAll(v, one))).cpuNs / TOKENS / 1000);
  }
  worstSame = Math.max(worstSame, median(same));
  rows.push([`${alg} fresh token`, median(fresh).toFixed(1)], [`${alg} same token`, median(same).toFixed(2)]);
}
const foreignPercent = foreign();
for (const line of textTable(['check (key cached)', 'CPU µs/check'], rows, firstColumnLeft)) console.log(line);
console.log(
  `same-token check: ${worstSame.toFixed(2)} µs at most; target <= ${TARGET_US} µs: ${worstSame <= TARGET_US ? 'met' : 'NOT met'}`,
);
for (const line of foreignLoadLines(foreignPercent, quiet)) console.log(line);
