// @ts-check
// Sliding-window counters: at most `perSource` events per source address and,
// when `total` is set, `total` events overall within `windowMs`. The consent
// page counts wrong owner secrets with it (5 per source, 20 in total, per 15
// minutes; owner-guard.mjs); registration counts requests per source only, so
// that no one source can close it for everyone.

export class RateLimiter {
  constructor({ perSource, total = Infinity, windowMs, now = Date.now, maxSources = 10_000 }) {
    this.perSource = perSource;
    this.total = total;
    this.windowMs = windowMs;
    this.now = now;
    this.maxSources = maxSources;
    /** @type {Map<string, number[]>} */
    this.bySource = new Map();
    /** @type {number[]} */
    this.all = [];
  }

  #trim(times, now) {
    while (times.length > 0 && times[0] <= now - this.windowMs) times.shift();
    return times;
  }

  /** { ok: true } or { ok: false, retryAfter } (whole seconds until an event leaves the full window). */
  check(source) {
    const now = this.now();
    const mine = this.#trim(this.bySource.get(source) ?? [], now);
    if (mine.length === 0) this.bySource.delete(source);
    this.#trim(this.all, now);
    const full = [mine.length >= this.perSource ? mine : undefined, this.all.length >= this.total ? this.all : undefined].filter(Boolean);
    if (full.length === 0) return { ok: true };
    // Free again when the oldest event that keeps each full window full has left it.
    const freeAt = Math.max(...full.map((times) => times[times.length - (times === mine ? this.perSource : this.total)] + this.windowMs));
    return { ok: false, retryAfter: Math.max(1, Math.ceil((freeAt - now) / 1000)) };
  }

  record(source) {
    const now = this.now();
    if (!this.bySource.has(source) && this.bySource.size >= this.maxSources) {
      // Bounded memory: forget the source seen longest ago (the global count still holds).
      this.bySource.delete(/** @type {string} */ (this.bySource.keys().next().value));
    }
    const mine = this.#trim(this.bySource.get(source) ?? [], now);
    mine.push(now);
    this.bySource.set(source, mine);
    if (this.total !== Infinity) this.all.push(now);
  }
}
