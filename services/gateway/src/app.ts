import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import type { Logger, Registry } from '@gas/runtime';
import { Histogram } from '@gas/runtime';
import { RpcError, AccountService, JobService } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import type { BlobStore } from '@gas/storage';
import { Problem, asSentence, problemFromRpc, sendProblem } from './problem.ts';
import { ApiTokenAuth } from './api-token-auth.ts';
import { LazyRequestLogger, RequestLog } from './request-log.ts';
import { JobCache } from './job-cache.ts';
import type { JobCacheOptions } from './job-cache.ts';
import { addSecurityHeaders } from './security-headers.ts';
import { Authenticator } from './authenticator.ts';
import type { IdentityStores } from './identity/index.ts';
import type { PlanLimits } from './plan-limits.ts';
import { registerJobRoutes } from './routes/jobs-routes.ts';
import { registerAuthRoutes } from './routes/auth-routes.ts';
import { registerPageRoutes } from './routes/page-routes.ts';
import { registerAccountRoutes } from './routes/account-routes.ts';
import { registerLiveRoutes } from './routes/live-routes.ts';
import { registerNoticeRoutes } from './routes/notice-routes.ts';
import type { NoticeClient } from './notice-view.ts';
import type { WebDeps } from './routes/web-deps.ts';
import { registerBillingRoutes } from './routes/billing-routes.ts';
import { registerOidcRoutes } from './routes/oidc-routes.ts';
import { registerApiDocs } from './routes/api-docs.ts';
import { registerUploadTicketRoutes } from './routes/upload-ticket-routes.ts';
import { registerAdminRoutes } from './routes/admin-routes.ts';
import { registerConfirmRoutes } from './routes/confirm-routes.ts';
import { registerAccountDeleteRoutes } from './routes/account-delete-routes.ts';
import { registerAdminAccountRoutes } from './routes/admin-account-routes.ts';
import { registerEmailChangeRoutes } from './routes/email-change-routes.ts';
import { EmailChanges } from './email-change.ts';
import { AccountDeletion } from './account-deletion.ts';
import { FlashNotices } from './flash-notice.ts';
import { ProviderReauthentications } from './provider-reauth.ts';
import { PasswordResets } from './password-reset.ts';
import type { MailedLinkTimes } from './mailed-link-limits.ts';
import { registerPasswordRoutes } from './routes/password-routes.ts';
import { EmailConfirmations } from './email-confirmation.ts';
import type { ConfirmationTimes } from './email-confirmation.ts';
import { AdminList, adminStateReader } from './admin-state.ts';
import { kubeReader } from './admin-kube.ts';
import type { KubeReader } from './admin-kube.ts';
import type { AnnotatorView } from '@gas/messaging';
import { UploadTickets } from './upload-tickets.ts';
import type { OidcSignIn } from './oidc-sign-in.ts';
import type { BillingProvider } from './billing/billing-provider.ts';
import { errorPage } from './web/pages/error-page.ts';
import { viewerIfAny } from './web/viewer.ts';

export interface GatewayDeps {
  jobs: ServiceClient<typeof JobService>;
  accounts: ServiceClient<typeof AccountService>;
  /** In-app notices; the gateway goes on without them while the notification service is away. */
  notices: NoticeClient;
  store: BlobStore;
  identity: IdentityStores;
  logger: Logger;
  registry: Registry;
  /** Operator-issued `userId:token` pairs. */
  apiTokens: string[];
  limits: PlanLimits;
  /** The URL users reach the gateway at; https turns on Secure cookies and HSTS. */
  publicUrl?: string;
  session: { maxMs: number };
  rateLimit: { perMinute: number; signInPerMinute: number };
  samplesDir?: string;
  billing: BillingProvider;
  /** OpenID Connect sign-in, when configured. */
  oidc?: { signIn: OidcSignIn; name: string } | null;
  /** Signs short-lived statements: the sign-in cookie, upload tickets. */
  secret: Buffer;
  /** Where browsers send files on an upload ticket (the S3 endpoint's origin), for the CSP. */
  uploadOrigins?: string[];
  /** How many annotators can take jobs now (their heartbeats); the pages say when none can. The admin page lists them. */
  annotators?: { available(): number; list?(): AnnotatorView[] };
  /** E-mail confirmation links: how long they work and how often they may be sent (defaults: CONFIRMATION_TIMES); tests set a clock. */
  emailConfirmation?: Partial<ConfirmationTimes> & { now?: () => number };
  /** Address change links' times and clock (tests); EMAIL_CHANGE_TIMES and the real clock by default. */
  emailChange?: Partial<MailedLinkTimes> & { now?: () => number };
  /** Password reset links' times and clock (tests); PASSWORD_RESET_TIMES and the real clock by default. */
  passwordReset?: Partial<MailedLinkTimes> & { now?: () => number };
  /** The admin page: who sees it (by confirmed account e-mail) and where its Kubernetes figures come from. */
  admin?: { emails: readonly string[]; kube?: KubeReader };
  /**
   * The per-user job cache that answers the API's job list and detail: its bounds, or one made on
   * `jobs` already (tests watch it); false: every read asks the job service.
   */
  jobCache?: Pick<JobCacheOptions, 'maxUsers' | 'idleMs' | 'retryMs' | 'syncTimeoutMs'> | JobCache | false;
}

const STATIC_DIR = fileURLToPath(new URL('../static/', import.meta.url));

// Fastify's default, said here because the answer past it names it.
const MAX_PARAM_LENGTH = 100;

/** Pages answer errors with an HTML page, the API with application/problem+json. */
function wantsHtml(req: FastifyRequest): boolean {
  const path = req.url.split('?')[0]!;
  if (path.startsWith('/api/') || path === '/jobs/events') return false;
  return (
    req.method === 'GET' ||
    req.method === 'HEAD' ||
    req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true ||
    req.headers['content-type']?.startsWith('multipart/form-data') === true
  );
}

/** Builds the HTTP app without listening, so tests can use `inject` or listen on port 0. */
export function buildGateway(deps: GatewayDeps): FastifyInstance {
  const secure = deps.publicUrl?.startsWith('https://') ?? false;
  // Observed by the request log at the end of each request (RequestLog), not by an onResponse hook.
  const duration = new Histogram({
    name: 'gas_gateway_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [deps.registry],
  });
  const app = Fastify({
    // The assertion picks Fastify's default logger type for the instance (pino's Logger is one).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestIdHeader: 'x-request-id',
    trustProxy: false,
    logController: new RequestLog(deps.logger, duration),
    childLoggerFactory: (logger, bindings, options) =>
      new LazyRequestLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger,
    // Addresses Fastify refuses before routing: answered like every other error (problem+json or the
    // error page, the security headers), without repeating the address, which may be kilobytes long.
    frameworkErrors: (err, req, reply) => {
      setSecurityHeaders(reply.raw);
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void sendError(
        req,
        reply,
        tooLong
          ? new Problem(414, 'URI Too Long', `a part of the address is longer than ${MAX_PARAM_LENGTH} characters`)
          : new Problem(400, 'Bad Request', 'the address is not valid: it has a malformed %-escape'),
      );
    },
  });

  const setSecurityHeaders = addSecurityHeaders(app, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", ...(deps.uploadOrigins ?? [])],
        // The live updates' SharedWorker (static/live-worker.js); said outright rather than left
        // to the fallback through script-src.
        workerSrc: ["'self'"],
        // Upgrading may send the browser on to the payment provider's page.
        formAction: ["'self'", 'https://checkout.stripe.com'],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        upgradeInsecureRequests: secure ? [] : null,
      },
    },
    hsts: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
  void app.register(cookie, { secret: deps.secret });
  void app.register(formbody, { bodyLimit: 64 * 1024 });
  void app.register(fastifyStatic, { root: STATIC_DIR, prefix: '/static/', maxAge: '1h', index: false });

  const authn = new Authenticator({
    sessions: deps.identity.sessions,
    tokens: deps.identity.tokens,
    staticTokens: new ApiTokenAuth(deps.apiTokens),
    cookie: { name: secure ? '__Host-gas_session' : 'gas_session', secure },
  });

  // Requests are counted per credential when there is one, else per address; a stricter budget
  // applies to sign-in and sign-up attempts.
  void app.register(rateLimit, {
    global: true,
    max: deps.rateLimit.perMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => {
      const { digest } = authn.credentialDigest(req);
      return digest ? `c:${digest}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: (_req, ctx) => {
      const err = new Problem(429, 'Too Many Requests', `too many requests; try again in ${Math.ceil(ctx.ttl / 1000)} s`);
      (err as Problem & { statusCode: number }).statusCode = 429;
      return err;
    },
  });

  async function sendError(req: FastifyRequest, reply: FastifyReply, p: Problem) {
    if (!wantsHtml(req)) return sendProblem(reply, p);
    for (const [k, v] of Object.entries(p.headers)) reply.header(k, v);
    const viewer = await viewerIfAny(req, { authn, accounts: deps.accounts });
    return reply
      .code(p.status)
      .type('text/html; charset=utf-8')
      .send(
        errorPage({
          status: p.status,
          title: p.title,
          detail: p.status >= 500 ? undefined : p.detail && asSentence(p.detail),
          viewer,
          requestId: req.id,
        }).text,
      );
  }

  app.setErrorHandler(async (err, req, reply) => {
    if (err instanceof Problem) return sendError(req, reply, err);
    if (err instanceof RpcError) {
      const p = problemFromRpc(err);
      if (p.status >= 500) req.log.error({ err }, 'job service call failed');
      return sendError(req, reply, p.status === 404 && wantsHtml(req) ? new Problem(404, 'Not Found', 'There is no such job.') : p);
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.code === 'FST_REQ_FILE_TOO_LARGE') {
      return sendError(
        req,
        reply,
        new Problem(413, 'Content Too Large', `the upload is larger than the ${deps.limits.maxUploadBytes}-byte limit`),
      );
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return sendError(req, reply, new Problem(e.statusCode, e.statusCode === 429 ? 'Too Many Requests' : 'Bad Request', e.message));
    }
    req.log.error({ err }, 'request failed');
    return sendError(
      req,
      reply,
      new Problem(500, 'Internal Server Error', 'something went wrong on our side; the request id is ' + req.id),
    );
  });
  // Browsers ask for it whatever the page says.
  app.get('/favicon.ico', (_req, reply) => reply.redirect('/static/favicon.svg', 301));
  app.setNotFoundHandler((req, reply) =>
    sendError(
      req,
      reply,
      new Problem(
        404,
        'Not Found',
        wantsHtml(req) ? 'There is no page at this address.' : `no route ${req.method} ${req.url.split('?')[0]}`,
      ),
    ),
  );

  const jobCache =
    deps.jobCache === false
      ? undefined
      : deps.jobCache instanceof JobCache
        ? deps.jobCache
        : new JobCache({ ...deps.jobCache, jobs: deps.jobs, logger: deps.logger });
  app.addHook('onClose', async () => jobCache?.close());
  // A job this gateway creates is in its user's cache at once, whichever route made it.
  const jobs: GatewayDeps['jobs'] = jobCache
    ? {
        ...deps.jobs,
        createJob: async (req, opts) => {
          const res = await deps.jobs.createJob(req, opts);
          jobCache.saw(res.job);
          return res;
        },
      }
    : deps.jobs;
  const { now, ...times } = deps.emailConfirmation ?? {};
  const confirmations = new EmailConfirmations({
    users: deps.identity.users,
    accounts: deps.accounts,
    operatorUsers: new Set(deps.apiTokens.map((pair) => pair.slice(0, pair.indexOf(':')))),
    times,
    ...(now ? { now } : {}),
    registry: deps.registry,
  });
  const { now: changeNow, ...changeTimes } = deps.emailChange ?? {};
  const emailChanges = new EmailChanges({
    users: deps.identity.users,
    accounts: deps.accounts,
    secret: deps.secret,
    registry: deps.registry,
    times: changeTimes,
    ...(changeNow ? { now: changeNow } : {}),
  });
  const flash = new FlashNotices(deps.secret, secure);
  const reauth = new ProviderReauthentications(deps.secret, secure);
  const { now: resetNow, ...resetTimes } = deps.passwordReset ?? {};
  const resets = new PasswordResets({
    users: deps.identity.users,
    accounts: deps.accounts,
    registry: deps.registry,
    logger: deps.logger,
    times: resetTimes,
    ...(resetNow ? { now: resetNow } : {}),
  });
  const web: WebDeps = {
    jobs,
    jobCache,
    flash,
    accounts: deps.accounts,
    notices: deps.notices,
    store: deps.store,
    authn,
    logger: deps.logger,
    limits: deps.limits,
    identity: deps.identity,
    sessionMaxMs: deps.session.maxMs,
    samplesDir: deps.samplesDir,
    annotators: deps.annotators,
    confirmations,
    admins: new AdminList(deps.admin?.emails ?? [], (userId, email) => confirmations.isConfirmed(userId, email)),
  };
  const annotators = deps.annotators;
  const adminState = adminStateReader({
    jobs: deps.jobs,
    annotators: annotators?.list ? { list: () => annotators.list!() } : undefined,
    kube: deps.admin?.kube ?? kubeReader({ inCluster: false, deployment: '', hpa: '', timeoutMs: 0 }),
  });
  // One for both ways in (the owner's page and the admin's), so they share the deletion counter.
  const deletion = new AccountDeletion({
    identity: deps.identity,
    jobs,
    accounts: deps.accounts,
    billing: deps.billing,
    jobCache,
    registry: deps.registry,
  });
  registerApiDocs(app);
  // Sign-in and sign-up attempts: a small budget per address, against password guessing. The rate
  // limiter reads a route's budget in its own onRoute hook; this one is added now, before the
  // limiter has loaded, so that it runs first (in a child scope it would run after and be ignored).
  app.addHook('onRoute', (route) => {
    if ((route.config as { signIn?: boolean } | undefined)?.signIn)
      route.config = {
        ...route.config,
        rateLimit: { max: deps.rateLimit.signInPerMinute, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `signin:${req.ip}` },
      };
  });
  // Routes are declared once the plugins above have loaded: the rate limiter and the OpenAPI
  // document learn of routes through onRoute hooks that a plugin adds only when it loads, so a
  // route declared before then would have no rate limit and no documentation.
  app.after(() => {
    registerJobRoutes(app, web);
    registerUploadTicketRoutes(
      app,
      web,
      new UploadTickets({
        store: deps.store,
        jobs,
        accounts: deps.accounts,
        limits: deps.limits,
        logger: deps.logger,
        secret: deps.secret,
      }),
    );
    registerLiveRoutes(app, web, deps.registry);
    registerAuthRoutes(app, web, { oidc: deps.oidc ? { name: deps.oidc.name } : null, secureCookies: secure });
    registerPasswordRoutes(app, web, { resets, secureCookies: secure, oidc: deps.oidc ? { name: deps.oidc.name } : null });
    if (deps.oidc)
      registerOidcRoutes(app, web, {
        signIn: deps.oidc.signIn,
        name: deps.oidc.name,
        secureCookies: secure,
        publicUrl: deps.publicUrl ?? '',
        reauth,
      });
    registerPageRoutes(app, web);
    registerAccountRoutes(app, web);
    registerAccountDeleteRoutes(app, web, {
      deletion,
      flash,
      oidc: deps.oidc ? { name: deps.oidc.name, reauth } : null,
    });
    registerConfirmRoutes(app, web);
    registerEmailChangeRoutes(app, web, {
      changes: emailChanges,
      billing: deps.billing,
      resets,
      secureCookies: secure,
      oidc: deps.oidc ? { name: deps.oidc.name, reauth } : null,
    });
    registerNoticeRoutes(app, web);
    registerBillingRoutes(app, web, deps.billing, deps.publicUrl ?? '');
    registerAdminRoutes(app, web, adminState);
    registerAdminAccountRoutes(app, web, deletion, deps.oidc ? { name: deps.oidc.name, reauth } : null);
  });
  return app;
}
