// The project's own lint rules: the design's boundaries, checked on every change (eslint.config.js).
import { dirname, relative, resolve, sep } from 'node:path';

const repoRoot = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
const SERVICES = ['gateway', 'job', 'annotator', 'notification', 'archive'];
const METRIC_CLASSES = new Set(['Counter', 'Gauge', 'Histogram', 'Summary']);

/** `services/<name>/...` or `packages/<name>/...` of a file, relative to the repo root. */
function ownerOf(file) {
  const parts = relative(repoRoot, file).split(sep);
  if ((parts[0] === 'services' || parts[0] === 'packages') && parts[1]) return { kind: parts[0], name: parts[1] };
  return undefined;
}

function importSources(context, check) {
  const visit = (node) => {
    if (node.source && typeof node.source.value === 'string') check(node.source, node.source.value);
  };
  return {
    ImportDeclaration: visit,
    ExportNamedDeclaration: visit,
    ExportAllDeclaration: visit,
    ImportExpression: visit,
  };
}

/** Services never import each other, and packages never import services: shared code lives in packages/. */
const noCrossServiceImport = {
  meta: {
    type: 'problem',
    docs: { description: 'a service imports only packages/, never another service' },
    schema: [],
    messages: {
      service: '{{from}} imports {{target}}: services talk over gRPC and JetStream; move shared code to packages/',
      package: 'packages/{{from}} imports the service {{target}}: packages must not depend on services',
    },
  },
  create(context) {
    const owner = ownerOf(context.filename);
    if (!owner) return {};
    return importSources(context, (node, spec) => {
      let target;
      if (spec.startsWith('.')) {
        const t = ownerOf(resolve(dirname(context.filename), spec));
        if (t?.kind === 'services') target = t.name;
      } else {
        const m = /^@gas\/([^/]+)/.exec(spec);
        if (m && SERVICES.includes(m[1])) target = m[1];
      }
      if (!target) return;
      if (owner.kind === 'packages') context.report({ node, messageId: 'package', data: { from: owner.name, target } });
      else if (target !== owner.name) context.report({ node, messageId: 'service', data: { from: owner.name, target } });
    });
  },
};

/**
 * Configuration is read once, by a config module, and handed to the code that needs it: a reader
 * then finds every variable a service takes in one place (and the docs test can list them).
 */
const envOnlyInConfig = {
  meta: {
    type: 'problem',
    docs: { description: "process.env is read only by config modules and entry points (main.ts, the CLI's cli.ts)" },
    schema: [],
    messages: { env: 'process.env is read only in config.ts, main.ts or cli.ts: add the variable to the config module and pass it in' },
  },
  create(context) {
    const base = context.filename.split(sep).pop();
    if (base === 'config.ts' || base === 'main.ts' || base === 'cli.ts') return {};
    return {
      MemberExpression(node) {
        if (node.object.type === 'Identifier' && node.object.name === 'process' && !node.computed && node.property.name === 'env') {
          context.report({ node, messageId: 'env' });
        }
      },
    };
  },
};

/** Metric names say whose they are: gas_<service>_<thing>_<unit>. */
const metricName = {
  meta: {
    type: 'problem',
    docs: { description: 'prom-client metric names are gas_<service>_<thing>_<unit>' },
    schema: [],
    messages: {
      shape: 'metric name "{{name}}" must be gas_<service>_<thing>_<unit> in lower snake case',
      service: 'metric name "{{name}}" in services/{{service}} must start with gas_{{service}}_',
      template: 'a computed metric name must start with gas_ or with a prefix that does (gas_<service>)',
    },
  },
  create(context) {
    const owner = ownerOf(context.filename);
    return {
      NewExpression(node) {
        if (node.callee.type !== 'Identifier' || !METRIC_CLASSES.has(node.callee.name)) return;
        const options = node.arguments[0];
        if (options?.type !== 'ObjectExpression') return;
        const prop = options.properties.find(
          (p) => p.type === 'Property' && !p.computed && p.key.type === 'Identifier' && p.key.name === 'name',
        );
        if (!prop) return;
        const v = prop.value;
        if (v.type === 'Literal' && typeof v.value === 'string') {
          const name = v.value;
          if (!/^gas_[a-z]+_[a-z0-9_]+$/.test(name)) context.report({ node: v, messageId: 'shape', data: { name } });
          else if (owner?.kind === 'services' && !name.startsWith(`gas_${owner.name}_`)) {
            context.report({ node: v, messageId: 'service', data: { name, service: owner.name } });
          }
        } else if (v.type === 'TemplateLiteral') {
          const head = v.quasis[0].value.cooked;
          if (head !== '' && !head.startsWith('gas_')) context.report({ node: v, messageId: 'template' });
        }
      },
    };
  },
};

export default {
  meta: { name: 'eslint-plugin-gas' },
  rules: {
    'no-cross-service-import': noCrossServiceImport,
    'env-only-in-config': envOnlyInConfig,
    'metric-name': metricName,
  },
};
