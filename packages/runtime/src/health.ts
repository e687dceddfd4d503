// Readiness is what Kubernetes uses to route traffic and what shutdown flips first, so a service is
// only ready once it has said it started, every check it registered is ok, and it is not draining.
export class Health {
  private readonly checks = new Map<string, boolean>();
  private startedFlag = false;
  private draining = false;

  /** Checks named here count as failing until they are first reported ok. */
  constructor(opts: { checks?: string[] } = {}) {
    for (const name of opts.checks ?? []) this.checks.set(name, false);
  }

  setReady(check: string, ok: boolean): void {
    this.checks.set(check, ok);
  }

  markStarted(): void {
    this.startedFlag = true;
  }

  startShutdown(): void {
    this.draining = true;
  }

  get started(): boolean {
    return this.startedFlag;
  }

  get shuttingDown(): boolean {
    return this.draining;
  }

  isReady(): boolean {
    if (!this.startedFlag || this.draining) return false;
    for (const ok of this.checks.values()) if (!ok) return false;
    return true;
  }

  status(): Record<string, boolean> {
    return Object.fromEntries(this.checks);
  }
}
