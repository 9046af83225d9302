/**
 * The request target, read without ever throwing. `new URL(req.url, base)`
 * throws on targets a client can send raw (`//`, `//[`, `//:99999`, `/\\`),
 * which once killed the process; here the path is taken as it was sent,
 * never resolved against a base, so `//metrics` is simply a path we do not serve.
 */
export interface RequestTarget {
  /** The path as sent, up to `?` or `#`; not decoded, not normalized. */
  readonly path: string;
  readonly query: URLSearchParams;
}

/**
 * origin-form (`/metrics?x=1`) and absolute-form (`http://host/metrics`, RFC 9112 §3.2.2)
 * give a target; anything else (authority-form, `*`, garbage) gives undefined → 400.
 */
export function parseTarget(raw: string | undefined): RequestTarget | undefined {
  if (raw === undefined || raw === '') return undefined;
  let rest = raw;
  if (!rest.startsWith('/')) {
    // scheme://host[:port] with host a reg-name or a bracketed IPv6 address; no userinfo.
    const m = /^https?:\/\/(?:[A-Za-z0-9._~%!$&'()*+,;=-]*|\[[0-9A-Fa-f:.]+\])(?::\d*)?(?=[/?#]|$)/i.exec(rest);
    if (!m) return undefined;
    rest = rest.slice(m[0].length) || '/';
    if (!rest.startsWith('/') && !rest.startsWith('?')) return undefined;
    if (rest.startsWith('?')) rest = '/' + rest;
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const path = q >= 0 ? rest.slice(0, q) : rest;
  // URLSearchParams decodes leniently: a malformed `%zz` stays as it is, it never throws.
  const query = new URLSearchParams(q >= 0 ? rest.slice(q + 1) : '');
  return { path, query };
}
