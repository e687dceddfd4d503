// Module resolution hooks for the VU worker (registered with module.register): the bare k6
// specifiers a script imports resolve to the harness's shims, so the scripts stay plain k6.
// Anything else k6 would load (remote jslib modules, k6/x extensions, k6/experimental) is refused
// with a message, rather than resolved to something that behaves differently.

let shims = {};

export function initialize(data) {
  shims = data.shims;
}

export async function resolve(specifier, context, nextResolve) {
  if (Object.hasOwn(shims, specifier)) return { url: shims[specifier], shortCircuit: true };
  if (specifier === 'k6' || specifier.startsWith('k6/')) {
    throw new Error(`the loadtest harness has no shim for "${specifier}" (it provides ${Object.keys(shims).join(', ')})`);
  }
  if (/^https?:\/\//.test(specifier)) {
    throw new Error(`the loadtest harness does not load remote modules ("${specifier}"); keep the scripts to k6's own modules`);
  }
  return nextResolve(specifier, context);
}
