/**
 * HTTP basic auth against bcrypt hashes (the web config's basic_auth_users).
 *
 * - bcryptjs's async compare works in slices between event-loop turns, so a
 *   login never holds up line processing for a whole hash (tens of ms).
 * - Results are cached, keyed by a SHA-256 of user and password (never the
 *   password itself), at most `cacheSize` entries, oldest dropped first; a
 *   login being checked is shared by concurrent requests with the same
 *   credentials.
 * - An unknown user is compared against a dummy hash of the same cost, so it
 *   takes as long as a known user with a wrong password.
 */
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

export interface BasicAuthOptions {
  readonly users: ReadonlyMap<string, string>;
  readonly cacheSize?: number;
}

/** user:password from `Authorization: Basic …`; undefined when absent or malformed. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

function costOf(hash: string): number {
  return Number(hash.slice(4, 6));
}

export class BasicAuth {
  private readonly cache = new Map<string, boolean>();
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly cacheSize: number;
  private dummy: Promise<string>;
  /** bcrypt comparisons actually computed (not from the cache); for tests and curiosity. */
  computed = 0;

  constructor(private readonly options: BasicAuthOptions) {
    this.cacheSize = options.cacheSize ?? 1024;
    const cost = Math.max(4, ...[...options.users.values()].map(costOf));
    this.dummy = bcrypt.hash('not a password of anyone', cost);
  }

  get enabled(): boolean {
    return this.options.users.size > 0;
  }

  /** True when the header carries a configured user and the right password. */
  check(header: string | undefined): Promise<boolean> {
    const creds = parseBasic(header);
    if (creds === undefined) return Promise.resolve(false);
    const key = createHash('sha256').update(creds.user).update('\0').update(creds.password).digest('hex');
    const hit = this.cache.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    let p = this.pending.get(key);
    if (p === undefined) {
      p = this.compare(creds.user, creds.password).then((ok) => {
        this.pending.delete(key);
        this.cache.set(key, ok);
        if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
        return ok;
      });
      this.pending.set(key, p);
    }
    return p;
  }

  private async compare(user: string, password: string): Promise<boolean> {
    this.computed++;
    const hash = this.options.users.get(user);
    if (hash === undefined) {
      await bcrypt.compare(password, await this.dummy);
      return false;
    }
    return bcrypt.compare(password, hash);
  }
}
