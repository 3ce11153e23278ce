// Preloaded into the Prisma CLI only. Its Wasm engine arms 10 s and 60 s timers that keep a finished
// command alive for up to a minute; unref'ing long timers lets the process exit as soon as it is done.
const original = global.setTimeout;
global.setTimeout = function patchedSetTimeout(fn, ms, ...args) {
  const timer = original(fn, ms, ...args);
  if (typeof ms === 'number' && ms >= 5000 && timer && typeof timer.unref === 'function') timer.unref();
  return timer;
};
