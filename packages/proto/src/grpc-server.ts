import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';

export interface GrpcServerHandle {
  server: grpc.Server;
  port: number;
  /** Marks every service NOT_SERVING, lets calls finish for graceMs, then cuts what is left (watch streams). */
  shutdown(graceMs: number): Promise<void>;
  setServing(serving: boolean): void;
}

/**
 * Binds a grpc-js server that also answers grpc.health.v1 (overall status "" and one entry per
 * service name), so Kubernetes can use native gRPC probes.
 */
export async function startGrpcServer(opts: {
  host: string;
  port: number;
  serviceNames: string[];
  register: (server: grpc.Server) => void;
}): Promise<GrpcServerHandle> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  opts.register(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const setServing = (serving: boolean) => {
    for (const name of ['', ...opts.serviceNames]) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  };
  setServing(true);
  return {
    server,
    port,
    setServing,
    shutdown: (graceMs) =>
      new Promise<void>((resolve) => {
        setServing(false);
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
