/**
 * `promise`, or `undefined` once the clock reaches `until` (a `Date.now()` time), whichever comes
 * first; a rejection of `promise` before then is passed on. Shutdown paths give several steps one
 * shared deadline this way, so a peer that never answers cannot get it twice. The timer is cleared
 * as soon as the race is decided, so nothing outlives the wait.
 */
export async function withDeadline<T>(promise: Promise<T>, until: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, until - Date.now()));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
