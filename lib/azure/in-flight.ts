// A process-wide bound on ARM requests in flight: every connection the bound needs is kept alive and reused.
import "server-only";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";

/**
 * ARM requests in flight at once, across every run and step of this process. The HTTPS agent keeps as many idle
 * connections (lib/azure/http-agent.ts), so every connection opened is reused round after round instead of a TLS
 * handshake per call, and the buffers of pending calls stay bounded. 512 tries in flight send a 400-cluster estate's
 * ~3 000 requests in a few rounds; ARM's own limits are per subscription (the steps bound those).
 */
export const ARM_MAX_IN_FLIGHT = 512;

/** A counting semaphore with FIFO hand-over. */
export class InFlightLimit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }

  /** Calls in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` once a slot is free; the slot is handed to the next waiter when `fn` settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter: `active` stays as it is.
      if (next) next();
      else this.active -= 1;
    }
  }
}

const armLimit = new InFlightLimit(ARM_MAX_IN_FLIGHT);

/**
 * core-rest-pipeline policy that holds each ARM try until a slot is free. Placed before the time limit, so a try's
 * limit counts from when it is sent, not from when it was queued.
 */
export function armInFlightPolicies(): { policy: PipelinePolicy; position: "perRetry" }[] {
  return [
    { policy: { name: "armInFlightLimit", sendRequest: (request, next) => armLimit.run(() => next(request)) }, position: "perRetry" },
  ];
}
