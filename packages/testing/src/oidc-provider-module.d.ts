// oidc-provider 9 ships no type declarations and no @types package covers 9.x; this declares only
// the surface oidc-provider.ts uses, so the rest of the package stays under strict type checking.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export default class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
