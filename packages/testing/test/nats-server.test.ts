import { existsSync } from 'node:fs';
import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer } from '../src/index.ts';
import type { NatsServerHandle } from '../src/index.ts';

t.test('startNatsServer', async (t) => {
  const nats: NatsServerHandle = await startNatsServer();
  t.teardown(() => nats.stop());

  t.test('serves NATS on the given url', async (t) => {
    t.match(nats.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    t.equal(nats.url, `nats://127.0.0.1:${nats.port}`);
    const nc = await connect({ servers: nats.url });
    try {
      const sub = nc.subscribe('gas.test.echo', { max: 1 });
      const got = (async () => {
        for await (const m of sub) return m.string();
        return undefined;
      })();
      nc.publish('gas.test.echo', 'ping');
      t.equal(await got, 'ping');
    } finally {
      await nc.close();
    }
  });

  t.test('has JetStream enabled with its store in storeDir', async (t) => {
    const res = await fetch(`${nats.monitorUrl}/jsz`);
    t.equal(res.status, 200);
    const jsz = (await res.json()) as { config?: { store_dir?: string }; disabled?: boolean };
    t.not(jsz.disabled, true);
    t.ok(jsz.config?.store_dir?.startsWith(nats.storeDir), JSON.stringify(jsz.config));
  });

  t.test('stops, frees the port and removes its own temp store', async (t) => {
    const other = await startNatsServer();
    t.ok(existsSync(other.storeDir));
    await other.stop();
    await other.stop();
    t.equal(existsSync(other.storeDir), false);
    await t.rejects(fetch(`${other.monitorUrl}/healthz`));
  });

  t.test('halt() and resume() bring the same server back with its streams; stop() ends it for good', async (t) => {
    const other = await startNatsServer();
    t.teardown(() => other.stop());
    const before = await connect({ servers: other.url });
    await (await jetstreamManager(before)).streams.add({ name: 'HALT_TEST', subjects: ['halt.test'] });
    await before.close();
    await other.halt();
    await t.rejects(fetch(`${other.monitorUrl}/healthz`), 'down while halted');
    await other.resume();
    t.equal((await fetch(`${other.monitorUrl}/healthz`)).status, 200, 'up again on the same ports');
    const after = await connect({ servers: other.url });
    t.teardown(() => after.close());
    t.equal((await (await jetstreamManager(after)).streams.info('HALT_TEST')).config.name, 'HALT_TEST', 'the stream survived');
    await other.stop();
    await t.rejects(other.resume(), /gone for good/);
  });

  t.test('runs without JetStream when asked', async (t) => {
    const plain = await startNatsServer({ jetstream: false });
    t.teardown(() => plain.stop());
    const jsz = (await (await fetch(`${plain.monitorUrl}/jsz`)).json()) as { disabled?: boolean };
    t.equal(jsz.disabled, true, 'JetStream is disabled');
  });

  t.test('keeps a store dir it was given', async (t) => {
    const dir = t.testdir();
    const other = await startNatsServer({ storeDir: dir });
    t.equal(other.storeDir, dir);
    await other.stop();
    t.ok(existsSync(dir));
  });

  t.test('says how to install nats-server when the binary is missing', async (t) => {
    const saved = process.env['NATS_SERVER_BIN'];
    process.env['NATS_SERVER_BIN'] = '/nonexistent/nats-server';
    try {
      await t.rejects(startNatsServer(), /install it: apt-get install -y nats-server/);
    } finally {
      if (saved === undefined) delete process.env['NATS_SERVER_BIN'];
      else process.env['NATS_SERVER_BIN'] = saved;
    }
  });
});
