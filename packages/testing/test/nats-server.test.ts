import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { makeTempDir, startNatsServer } from '../src/index.ts';
import type { NatsServerHandle } from '../src/index.ts';

describe('startNatsServer', () => {
  let nats: NatsServerHandle;
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    await nats?.stop();
  });

  it('serves NATS on the given url', async () => {
    assert.match(nats.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(nats.url, `nats://127.0.0.1:${nats.port}`);
    const nc = await connect({ servers: nats.url });
    try {
      const sub = nc.subscribe('gas.test.echo', { max: 1 });
      const got = (async () => {
        for await (const m of sub) return m.string();
        return undefined;
      })();
      nc.publish('gas.test.echo', 'ping');
      assert.equal(await got, 'ping');
    } finally {
      await nc.close();
    }
  });

  it('has JetStream enabled with its store in storeDir', async () => {
    const res = await fetch(`${nats.monitorUrl}/jsz`);
    assert.equal(res.status, 200);
    const jsz = (await res.json()) as { config?: { store_dir?: string }; disabled?: boolean };
    assert.notEqual(jsz.disabled, true);
    assert.ok(jsz.config?.store_dir?.startsWith(nats.storeDir), JSON.stringify(jsz.config));
  });

  it('stops, frees the port and removes its own temp store', async () => {
    const other = await startNatsServer();
    assert.ok(existsSync(other.storeDir));
    await other.stop();
    await other.stop();
    assert.equal(existsSync(other.storeDir), false);
    await assert.rejects(fetch(`${other.monitorUrl}/healthz`));
  });

  it('keeps a store dir it was given', async () => {
    const dir = await makeTempDir('gas-nats-given-');
    try {
      const other = await startNatsServer({ storeDir: dir.path });
      assert.equal(other.storeDir, dir.path);
      await other.stop();
      assert.ok(existsSync(dir.path));
    } finally {
      await dir.cleanup();
    }
  });

  it('says how to install nats-server when the binary is missing', async () => {
    const saved = process.env['NATS_SERVER_BIN'];
    process.env['NATS_SERVER_BIN'] = '/nonexistent/nats-server';
    try {
      await assert.rejects(startNatsServer(), /install it: apt-get install -y nats-server/);
    } finally {
      if (saved === undefined) delete process.env['NATS_SERVER_BIN'];
      else process.env['NATS_SERVER_BIN'] = saved;
    }
  });
});
