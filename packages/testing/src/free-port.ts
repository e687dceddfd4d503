import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not allocate a free port'))));
    });
  });
}

const PRINT_FREE_PORT = `
const s = require('node:net').createServer();
s.listen(0, '127.0.0.1', () => { process.stdout.write(String(s.address().port)); s.close(); });
`;

// startService has a synchronous signature, and Node cannot bind a socket synchronously, so the
// port is asked of a short-lived helper process instead.
export function freePortSync(): number {
  const out = execFileSync(process.execPath, ['-e', PRINT_FREE_PORT], { encoding: 'utf8', timeout: 10_000 });
  const port = Number(out.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not allocate a free port (helper printed ${JSON.stringify(out)})`);
  return port;
}
