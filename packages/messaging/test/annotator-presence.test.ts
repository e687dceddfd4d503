import t from 'tap';
import { announceAnnotator, connectNats, subjects, watchAnnotators } from '../src/index.ts';
import type { AnnotatorView } from '../src/index.ts';
import { startNatsServer } from '@gas/testing';
import { captureLogger } from './log-capture.ts';
import { eventually } from './wait.ts';

const server = await startNatsServer({ jetstream: false });
t.teardown(() => server.stop());
const connect = (name: string) => connectNats({ servers: server.url, name, logger: captureLogger().logger });

const ids = (views: AnnotatorView[]) => views.map((v) => v.annotatorId).sort();

t.test('a watcher started after the annotators learns of them at once, not one interval later', async (t) => {
  const a = await connect('annotator-a');
  const b = await connect('annotator-b');
  const g = await connect('gateway');
  t.teardown(() => Promise.all([a.close(), b.close(), g.close()]));
  // A long interval: only the watcher's ping can make them known within the wait below.
  const annA = announceAnnotator(a, { annotatorId: 'a', slots: 2, intervalMs: 60_000 });
  const annB = announceAnnotator(b, { annotatorId: 'b', slots: 1, intervalMs: 60_000 });
  t.teardown(() => {
    annA.leave();
    annB.leave();
  });
  await Promise.all([a.flush(), b.flush()]);
  const changes: string[][] = [];
  const watch = watchAnnotators(g, { onChange: (v) => changes.push(ids(v)) });
  t.teardown(() => watch.stop());
  const seen = await eventually(
    () => ids(watch.available()),
    (v) => v.length === 2,
    2000,
  );
  t.strictSame(seen, ['a', 'b']);
  t.strictSame(
    watch.available().find((v) => v.annotatorId === 'a'),
    { annotatorId: 'a', slots: 2, busy: 0 },
  );
  t.strictSame(changes.at(-1), ['a', 'b'], 'onChange reported the set');
});

t.test('an annotator that leaves is gone at once; one that goes quiet is gone after three missed heartbeats', async (t) => {
  const a = await connect('annotator-quiet');
  const b = await connect('annotator-leaving');
  const g = await connect('gateway-2');
  t.teardown(() => Promise.all([b.close(), g.close()]));
  const watch = watchAnnotators(g);
  t.teardown(() => watch.stop());
  await g.flush();
  announceAnnotator(a, { annotatorId: 'quiet', slots: 1, intervalMs: 200 });
  const leaving = announceAnnotator(b, { annotatorId: 'leaving', slots: 1, intervalMs: 200 });
  t.strictSame(
    await eventually(
      () => ids(watch.available()),
      (v) => v.length === 2,
      2000,
    ),
    ['leaving', 'quiet'],
  );

  leaving.leave();
  t.strictSame(
    await eventually(
      () => ids(watch.available()),
      (v) => v.length === 1,
      500,
    ),
    ['quiet'],
    'goodbye counted at once',
  );

  // A killed annotator sends nothing more: closing its connection is the nearest thing here.
  const quietSince = Date.now();
  await a.close();
  t.strictSame(
    await eventually(
      () => ids(watch.available()),
      (v) => v.length === 0,
      3000,
    ),
    [],
  );
  const gone = Date.now() - quietSince;
  t.ok(gone >= 350, `counted gone after missed heartbeats, not at once (${gone} ms)`);
});

t.test('busy counts travel with the heartbeat, and garbage on the subject is ignored', async (t) => {
  const a = await connect('annotator-busy');
  const g = await connect('gateway-3');
  t.teardown(() => Promise.all([a.close(), g.close()]));
  const watch = watchAnnotators(g);
  t.teardown(() => watch.stop());
  await g.flush();
  g.publish(subjects.annotatorPresence, new Uint8Array([0xff, 0xff, 0xff]));
  const ann = announceAnnotator(a, { annotatorId: 'busy', slots: 4, intervalMs: 100 });
  t.teardown(() => ann.leave());
  ann.setBusy(3);
  const views = await eventually(
    () => watch.available(),
    (v) => v[0]?.busy === 3,
    2000,
  );
  t.strictSame(views, [{ annotatorId: 'busy', slots: 4, busy: 3 }]);
});

t.test('after NATS restarts, heartbeats come again at once, not one interval later', async (t) => {
  const a = await connect('annotator-restart');
  const g = await connect('gateway-4');
  t.teardown(() => Promise.all([a.close(), g.close()]));
  const watch = watchAnnotators(g);
  t.teardown(() => watch.stop());
  const ann = announceAnnotator(a, { annotatorId: 'r', slots: 1, intervalMs: 60_000 });
  t.teardown(() => ann.leave());
  t.strictSame(
    await eventually(
      () => ids(watch.available()),
      (v) => v.length === 1,
      2000,
    ),
    ['r'],
  );
  const beats: number[] = [];
  g.subscribe(subjects.annotatorPresence, {
    callback: () => {
      beats.push(Date.now());
    },
  });
  await g.flush();
  await server.halt();
  await server.resume();
  // The interval is a minute: only the reconnect (the annotator's own, or the watcher's ping) sends one.
  const n = await eventually(
    () => beats.length,
    (c) => c > 0,
    8000,
  );
  t.ok(n > 0, 'a heartbeat followed the reconnect');
  t.strictSame(ids(watch.available()), ['r']);
});
