// A browser-less client of the gateway's web pages for tests: keeps cookies, reads the CSRF token
// a page carries and posts forms the way a browser would (no redirects followed, so tests see them).

export interface WebResponse {
  status: number;
  location: string | null;
  headers: Headers;
  text: string;
}

export class WebClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(path: string, init: RequestInit = {}): Promise<WebResponse> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', this.cookieHeader());
    const res = await fetch(this.baseUrl + path, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), headers: res.headers, text: await res.text() };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<WebResponse> {
    return this.request(path, { headers });
  }

  postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<WebResponse> {
    return this.request(path, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  }

  /** The CSRF token of a page: the signed-in meta tag, else the first form's hidden field. */
  static csrfOf(html: string): string {
    const m = /<meta name="csrf-token" content="([^"]+)"/.exec(html) ?? /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error('the page carries no CSRF token');
    return m[1]!;
  }

  /**
   * Signs up through the form, then signs in (sign-up never signs anyone in: it answers the same
   * whether or not the address had an account). Returns the jobs page's CSRF token.
   */
  async signUp(user: { email: string; password: string; name: string; institution?: string }): Promise<string> {
    const form = await this.get('/signup');
    const res = await this.postForm('/signup', { _csrf: WebClient.csrfOf(form.text), ...user, institution: user.institution ?? '' });
    if (res.status !== 200 || !res.text.includes('sign in with the password you chose'))
      throw new Error(`sign-up answered ${res.status}: ${res.text.slice(0, 300)}`);
    const signIn = await this.signIn(user.email, user.password);
    if (signIn.status !== 303) throw new Error(`sign-in after sign-up answered ${signIn.status}: ${signIn.text.slice(0, 300)}`);
    return WebClient.csrfOf((await this.get('/jobs')).text);
  }

  async signIn(email: string, password: string): Promise<WebResponse> {
    const form = await this.get('/signin');
    return this.postForm('/signin', { _csrf: WebClient.csrfOf(form.text), email, password });
  }

  /** Posts a file to the JSON API as the page script does: the session cookie and X-CSRF-Token. */
  async upload(name: string, body: Blob, genomeBuild: string, csrf: string | null): Promise<WebResponse> {
    const form = new FormData();
    form.append('genome_build', genomeBuild);
    form.append('file', body, name);
    return this.request('/api/v1/jobs', { method: 'POST', body: form, headers: csrf ? { 'x-csrf-token': csrf } : {} });
  }
}
