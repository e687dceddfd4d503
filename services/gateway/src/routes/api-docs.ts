// The JSON API described as OpenAPI 3.1: the document at /api/openapi.json, Swagger UI at /api/docs.
// The document is built from the /api/v1 route schemas (api-schemas.ts); every other route (the web
// pages, the UI's own files) is left out.
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

export const OPENAPI_PATH = '/api/openapi.json';
export const DOCS_PREFIX = '/api/docs';

const isApiRoute = (url: string) => url === '/api/v1' || url.startsWith('/api/v1/');

const DESCRIPTION = `The JSON API of GAS, the genomics annotation service: upload a VCF, follow its job, download the
annotated results. The job object and every route are described in detail in \`docs/api.md\`.

## Authentication

Send an API token as \`Authorization: Bearer <token>\`. Create and revoke tokens on the web page
[/tokens](/tokens); an operator can also issue tokens with the gateway's \`GATEWAY_API_TOKENS\`. A token
is the whole credential: no CSRF token is needed with it.

In a browser the session cookie of the web pages works as well. A request with the cookie that changes
something (\`POST\`) must then also send the session's CSRF token in the \`X-CSRF-Token\` header, or it is
refused with 403.

## Errors

Errors are \`application/problem+json\` (RFC 9457) with \`type\`, \`title\`, \`status\` and usually \`detail\`.
Branch on \`status\`; \`detail\` is a sentence for people.

## Rate limits

Each credential (each address, without one) may make a number of requests per minute. Past it the answer
is 429 with a \`Retry-After\` header: the seconds until the budget refills.`;

/**
 * Registers the OpenAPI document and Swagger UI. @fastify/swagger learns of routes from an onRoute
 * hook that it adds when it loads, so the /api/v1 routes must be declared after this call and after
 * the plugins have loaded (buildGateway declares its routes in app.after()).
 */
export function registerApiDocs(app: FastifyInstance): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'GAS API', version: '1.0.0', description: DESCRIPTION },
      tags: [
        { name: 'Jobs', description: 'Upload VCFs and follow their jobs.' },
        { name: 'Results', description: 'The files of a job.' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token from the /tokens page (or `GATEWAY_API_TOKENS`).' },
          cookieAuth: {
            type: 'apiKey',
            in: 'cookie',
            name: 'gas_session',
            description:
              'The web session (`__Host-gas_session` when the gateway is served over https). Requests that change something also need the `X-CSRF-Token` header.',
          },
        },
      },
    },
    // Shared schemas appear under their own names (Job, JobList, Problem) rather than def-0, def-1.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`),
    },
    transform: ({ schema, url }) => ({ schema: isApiRoute(url) ? schema : { ...schema, hide: true }, url }),
  });

  void app.register(async (docs) => {
    docs.get(OPENAPI_PATH, { schema: { hide: true } }, () => docs.swagger());
    await docs.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      // BaseLayout leaves out the top bar: its Swagger logo is an SVG with an inline <style>, which the
      // gateway's CSP (style-src 'self') refuses, and its box for loading another document is not
      // wanted here. Nothing else in the UI needs an inline style or script (tests/e2e/api-docs.test.ts
      // watches for CSP violations in Chromium), so the page keeps the site's policy unchanged.
      uiConfig: { layout: 'BaseLayout', deepLinking: true, defaultModelsExpandDepth: 1 },
    });
  });
}
