// Redirecting the public URLs to a mirror (or, in the tests, to a local HTTP server).

/** Names the mirror when `--base-url` is not given. */
export const BASE_URL_ENV = 'GAS_SOURCES_BASE_URL';

/**
 * `https://host/path` → `<base>/host/path`. Keeping the host in the path means one mirror serves
 * UCSC, NCBI and Ensembl without their paths colliding, and it is the layout `wget -x` (or `wget -m`)
 * writes, so a mirror is just a copied folder behind any static web server.
 */
export function mirrorUrl(url: string, base: string | undefined): string {
  if (!base) return url;
  const u = new URL(url);
  return `${base.replace(/\/+$/, '')}/${u.host}${u.pathname}`;
}
