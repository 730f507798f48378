import { strict as assert } from 'node:assert';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { it } from 'node:test';
import { skipUnsolicitedContinue } from '../../../src/backends/skip-continue.js';

/** A socket-shaped duplex whose readable side is fed by the test and whose writes are dropped. */
function fakeSocket(): Socket & { feed(s: string): void } {
  const d = new Duplex({
    read() {},
    write(_c, _e, cb) {
      cb();
    },
  });
  return Object.assign(d, { feed: (s: string) => d.push(Buffer.from(s, 'latin1')) }) as unknown as Socket & {
    feed(s: string): void;
  };
}

function readAll(s: Socket): string {
  let out = '';
  for (let c = s.read() as Buffer | null; c !== null; c = s.read() as Buffer | null) out += c.toString('latin1');
  return out;
}

it('removes 100 heads at the start of a response only, after a request head is written', () => {
  const s = fakeSocket();
  skipUnsolicitedContinue(s);
  s.feed('HTTP/1.1 100 Continue\r\n\r\nX');
  assert.equal(readAll(s), 'HTTP/1.1 100 Continue\r\n\r\nX', 'nothing is removed before a request went out');
  s.write('GET / HTTP/1.1\r\nhost: a\r\n\r\n', 'latin1');
  s.feed('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n');
  assert.equal(
    readAll(s),
    'HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n',
    'bytes past the final head are untouched',
  );
  s.write('\r\n5\r\n', 'latin1');
  s.write(Buffer.from('hello'));
  s.feed('HTTP/1.1 100 Continue\r\n\r\n');
  assert.equal(readAll(s), 'HTTP/1.1 100 Continue\r\n\r\n', 'chunk framing and body writes do not start a response');
});

it('holds a head split over reads until it is known', () => {
  const s = fakeSocket();
  skipUnsolicitedContinue(s);
  s.write('POST /x HTTP/1.1\r\n\r\n', 'latin1');
  s.feed('HTTP/1.1 1');
  assert.equal(readAll(s), '');
  s.feed('00 Continue\r\nx: 1\r\n');
  assert.equal(readAll(s), '');
  s.feed('\r\nHTTP/1.1 10');
  assert.equal(readAll(s), '');
  s.feed('3 Early Hints\r\n\r\n');
  assert.equal(readAll(s), 'HTTP/1.1 103 Early Hints\r\n\r\n', 'other 1xx are left to undici and the handler');
  s.write('GET / HTTP/1.1\r\n\r\n', 'latin1');
  s.feed('HTTP/1.1 1000 Odd\r\n\r\n');
  assert.equal(readAll(s), 'HTTP/1.1 1000 Odd\r\n\r\n', 'a 1000 status is not a 100');
});
