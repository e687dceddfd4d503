import { Registry, collectDefaultMetrics } from 'prom-client';

export { Registry, Counter, Gauge, Histogram } from 'prom-client';

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // Metric names only allow [a-zA-Z0-9_:], and service names may contain dashes.
  const prefix = `gas_${service.replace(/[^a-zA-Z0-9_]/g, '_')}_`;
  collectDefaultMetrics({ register: registry, prefix });
  return registry;
}
