import type { Server } from 'node:http';
import S3rver from 's3rver';
import { makeTempDir } from './temp-dir.ts';

export type S3Area = 'inputs' | 'results' | 'archive';

export interface S3ServerHandle {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  buckets: Record<S3Area, string>;
  stop(): Promise<void>;
}

export interface StartS3ServerOptions {
  buckets?: Record<S3Area, string>;
}

export const DEFAULT_TEST_BUCKETS: Readonly<Record<S3Area, string>> = Object.freeze({
  inputs: 'gas-inputs',
  results: 'gas-results',
  archive: 'gas-archive',
});

const BROWSER_UPLOAD_CORS = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>600</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

// s3rver runs in this process (it is a Koa app), so there is no child to kill: when the process
// ends the server ends with it, and the temp dir is removed by the cleanup registry's exit hook.
export async function startS3Server(opts: StartS3ServerOptions = {}): Promise<S3ServerHandle> {
  const buckets = { ...(opts.buckets ?? DEFAULT_TEST_BUCKETS) };
  const dir = await makeTempDir('gas-s3rver-');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir.path,
    // The inputs bucket lets browsers upload straight to it (the gateway's upload tickets), as a
    // real deployment's CORS rule would: any origin here, since test ports are random.
    configureBuckets: [...new Set(Object.values(buckets))].map((name) => ({
      name,
      configs: name === buckets.inputs ? [BROWSER_UPLOAD_CORS] : [],
    })),
  });
  let address;
  try {
    address = await server.run();
  } catch (err) {
    await dir.cleanup();
    throw err;
  }
  // Not in @types/s3rver, but s3rver keeps its http.Server here after run().
  const httpServer = (server as unknown as { httpServer: Server }).httpServer;
  httpServer.unref();

  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    buckets,
    stop() {
      stopping ??= (async () => {
        const closed = server.close();
        // SDK clients keep sockets alive; without this close() waits for them to time out.
        httpServer.closeAllConnections();
        await closed;
        await dir.cleanup();
      })();
      return stopping;
    },
  };
}
