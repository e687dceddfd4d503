// Preloaded into a service by `pnpm bench:system --cpu-prof DIR` (NODE_OPTIONS=--import ...):
// Node 20 does not allow --cpu-prof in NODE_OPTIONS, so this starts the same V8 profiler through
// the inspector and writes <DIR>/<service>-<pid>.cpuprofile when the process exits.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  const name = process.argv[1]?.match(/services\/([^/]+)\//)?.[1] ?? 'node';
  // The main thread's session answers synchronously, so this completes within the exit handler.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
