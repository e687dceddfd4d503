import type { KV } from '@nats-io/kv';
import type { Logger } from '@gas/runtime';
import { isRevisionConflict } from '@gas/messaging';

/**
 * A lease in a KV bucket whose entries expire (the bucket's TTL): the holder rewrites its key every
 * ttl/3; when it stops (or dies) the key expires and another replica's create succeeds. Used so
 * that something every replica could do is done by one at a time.
 */
export class KvLease {
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly key: string,
    private readonly holder: string,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  /** Whether this replica held the lease at its last renewal. */
  get held(): boolean {
    return this.revision > 0;
  }

  start(): void {
    const tick = () => {
      void this.renew().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, Math.max(100, Math.floor(this.ttlMs / 3)));
      });
    };
    tick();
  }

  /** Gives the lease up at once, so another replica takes over without waiting out the TTL. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.held) return;
    this.revision = 0;
    await this.kv.delete(this.key).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    const was = this.held;
    try {
      this.revision = this.held ? await this.kv.update(this.key, this.holder, this.revision) : await this.kv.create(this.key, this.holder);
    } catch (err) {
      // Someone else holds it (or took it over after our key expired), or NATS is away: either way
      // this replica must not act as the holder until a renewal succeeds.
      this.revision = 0;
      if (!isRevisionConflict(err)) this.logger.warn({ err: (err as Error).message, lease: this.key }, 'lease renewal failed');
    }
    if (was !== this.held) this.logger.info({ lease: this.key, held: this.held }, this.held ? 'lease taken' : 'lease lost');
  }
}
