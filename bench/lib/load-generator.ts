// Picks the load generator: wrk when installed (cheaper per request, so it
// steals less CPU from the proxies on a small machine), else autocannon.

import { autocannonGenerator } from './autocannon.js';
import type { LoadGenerator } from './load-result.js';
import { which } from './which.js';
import { wrkGenerator } from './wrk.js';

export type LoadToolChoice = 'auto' | 'wrk' | 'autocannon';

export function selectLoadGenerator(choice: LoadToolChoice): LoadGenerator {
  if (choice === 'autocannon') return autocannonGenerator();
  const wrk = which('wrk');
  if (wrk !== undefined) return wrkGenerator(wrk);
  if (choice === 'wrk') throw new Error('--tool wrk requested but wrk is not on PATH');
  return autocannonGenerator();
}
