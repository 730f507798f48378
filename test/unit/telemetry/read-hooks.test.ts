/** Read hooks (read-hooks.ts): every hook added runs on each read, in the order added, none replacing another. */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { ReadHooks } from '../../../src/telemetry/read-hooks.js';

it('runs every hook added, in the order added, on each run', () => {
  const hooks = new ReadHooks();
  const ran: string[] = [];
  hooks.run();
  hooks.add(() => ran.push('views'));
  hooks.add(() => ran.push('second'));
  hooks.run();
  hooks.run();
  assert.deepEqual(ran, ['views', 'second', 'views', 'second']);
});
