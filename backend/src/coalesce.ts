/*
 * Coalesced reads for polled endpoints. Hundreds of clients polling the same job statuses and the same library page
 * would each cost MongoDB round trips; here concurrent requests share reads instead. Freshness is never traded:
 * a request only ever joins a read that starts after it arrived (the one running when it arrives is not joined;
 * the next one, started as soon as that finishes, is), so an answer never predates the request, e.g. a list
 * fetched right after an upload's 202 always contains that upload. At most one read per key runs at a time.
 */

/** Per key: the read in progress and the one queued behind it, which every newcomer joins. */
export class FreshSingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();
  private readonly queued = new Map<string, Promise<T>>();

  run(key: string, load: () => Promise<T>): Promise<T> {
    const queued = this.queued.get(key);
    if (queued) return queued;
    const current = this.running.get(key);
    if (!current) return this.start(key, load);
    const next = current.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      this.queued.delete(key);
      return this.start(key, load);
    });
    this.queued.set(key, next);
    return next;
  }

  private start(key: string, load: () => Promise<T>): Promise<T> {
    const p = load().finally(() => {
      if (this.running.get(key) === p) this.running.delete(key);
    });
    this.running.set(key, p);
    return p;
  }
}

/**
 * Reads by id in batches: ids asked for while a batch is running wait for the next batch (one `$in` query for
 * all of them), started as soon as the running one finishes. Ids asked for in the same tick share a batch.
 */
export class BatchedLookup<V> {
  private running: Promise<void> | null = null;
  private pending: Map<string, { resolve: (v: V | null) => void; reject: (e: unknown) => void }[]> | null = null;

  constructor(
    private readonly loadMany: (ids: string[]) => Promise<Map<string, V>>,
    private readonly maxBatch = 500,
  ) {}

  get(id: string): Promise<V | null> {
    return new Promise((resolve, reject) => {
      if (!this.pending) {
        this.pending = new Map();
        if (!this.running) setImmediate(() => this.flush());
      }
      const waiters = this.pending.get(id) ?? [];
      waiters.push({ resolve, reject });
      this.pending.set(id, waiters);
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = null;
    if (!batch || batch.size === 0) return;
    const entries = [...batch];
    const runs: Promise<void>[] = [];
    for (let i = 0; i < entries.length; i += this.maxBatch) {
      const slice = entries.slice(i, i + this.maxBatch);
      runs.push(
        this.loadMany(slice.map(([id]) => id)).then(
          (found) => {
            for (const [id, waiters] of slice) for (const w of waiters) w.resolve(found.get(id) ?? null);
          },
          (err) => {
            for (const [, waiters] of slice) for (const w of waiters) w.reject(err);
          },
        ),
      );
    }
    this.running = Promise.all(runs).then(() => {
      this.running = null;
      // Whatever arrived meanwhile goes out now, as one batch.
      if (this.pending) this.flush();
    });
  }
}
