/*
 * The API's only call to the pose service's HTTP side: its readiness, for /health/ready. Videos are analysed by
 * the pose workers, which take their tasks from MongoDB (docs/contracts.md, "the work queue"); the API makes no
 * pose call that lasts a video.
 */

export interface PoseClient {
  ready(timeoutMs: number): Promise<{ ok: boolean; detail: string | null }>;
}

/** HTTP client for the pose service's /ready. */
export function httpPoseClient(baseUrl: string): PoseClient {
  return {
    async ready(timeoutMs) {
      try {
        const res = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
        if (res.ok) return { ok: true, detail: null };
        const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
        return { ok: false, detail: `pose service /ready answered ${res.status}${body?.detail ? `: ${String(body.detail)}` : ''}` };
      } catch (err) {
        const e = err as Error;
        return { ok: false, detail: `pose service unreachable: ${(e.cause as Error | undefined)?.message ?? e.message}` };
      }
    },
  };
}
