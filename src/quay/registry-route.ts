/**
 * Classifies a Docker Registry v2 request by its route, following the
 * distribution spec's grammar: the repository name is everything between
 * `/v2/` and the route's fixed tail, so `org/team/app` is namespace `org`,
 * repository `team/app` — never "the first two segments".
 *
 *   /v2/                                   ping
 *   /v2/auth                               token (Quay's token endpoint)
 *   /v2/_catalog                           catalog
 *   /v2/<name>/tags/list                   list_tags
 *   /v2/<name>/manifests/<ref>             pull_manifest (GET, HEAD) | push_manifest (PUT) | delete_manifest (DELETE)
 *   /v2/<name>/blobs/uploads/              push_blob_start (POST)
 *   /v2/<name>/blobs/uploads/<id>          push_blob_chunk (PATCH) | push_blob_commit (PUT)
 *   /v2/<name>/blobs/<digest>              pull_blob (GET, HEAD)
 *   /v2/<name>/referrers/<digest>          referrers
 *
 * Works on the path without allocating: it reports where the name ends, and
 * the caller slices it once (and splits it with splitRepositoryName only for
 * a name it has not seen before).
 */
export type Operation =
  | 'pull_manifest'
  | 'push_manifest'
  | 'delete_manifest'
  | 'pull_blob'
  | 'push_blob_start'
  | 'push_blob_chunk'
  | 'push_blob_commit'
  | 'list_tags'
  | 'catalog'
  | 'referrers'
  | 'token'
  | 'ping'
  /** A blob download through Quay's storage proxy (`/_storage_proxy/…`): never returned by classifyRegistryRequest. */
  | 'storage_proxy'
  | 'other';

/** Reused by the caller: classify() overwrites both fields. */
export interface RegistryRoute {
  operation: Operation;
  /** The repository name is `path.slice(NAME_START, nameEnd)`; -1 when the route has none. */
  nameEnd: number;
}

/** Where a repository name starts in a v2 path: after `/v2/`. */
export const NAME_START = 4;

export function newRoute(): RegistryRoute {
  return { operation: 'other', nameEnd: -1 };
}

/**
 * [namespace, repository] of a name: its first component, and the rest. A
 * one-component name is stored by Quay in its library namespace
 * (util/names.py parse_namespace_repository: `LIBRARY_NAMESPACE`, default
 * `library`, when `FEATURE_LIBRARY_SUPPORT` is on; when off Quay answers 400,
 * and the request is still labelled so): `oc-mirror` is `library/oc-mirror`.
 */
export function splitRepositoryName(name: string, libraryNamespace = 'library'): [string, string] {
  const slash = name.indexOf('/');
  return slash === -1 ? [libraryNamespace, name] : [name.slice(0, slash), name.slice(slash + 1)];
}

/** Longest repository name Quay accepts (namespace 255 + "/" + repository 255). */
const MAX_NAME = 511;

/** Path component characters of the v2 grammar (lower-case per spec; Quay namespaces may be mixed case in old installs). */
function validName(path: string, from: number, to: number): boolean {
  if (to <= from || to - from > MAX_NAME) return false;
  let prevSlash = true;
  for (let i = from; i < to; i++) {
    const c = path.charCodeAt(i);
    if (c === 47 /* / */) {
      if (prevSlash) return false;
      prevSlash = true;
      continue;
    }
    prevSlash = false;
    const ok =
      (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 46 /* . */ || c === 95 /* _ */ || c === 45; /* - */
    if (!ok) return false;
  }
  return !prevSlash;
}

function setName(out: RegistryRoute, path: string, from: number, to: number): boolean {
  if (!validName(path, from, to)) return false;
  out.nameEnd = to;
  return true;
}

function other(out: RegistryRoute): void {
  out.operation = 'other';
  out.nameEnd = -1;
}

/**
 * Classify `method path` (path may carry a query string). The caller has
 * checked that the path starts with `/v2`.
 */
export function classifyRegistryRequest(method: string, rawPath: string, out: RegistryRoute): void {
  const q = rawPath.indexOf('?');
  const end = q === -1 ? rawPath.length : q;
  const path = rawPath;
  out.nameEnd = -1;
  if (end <= 4) {
    // "/v2" or "/v2/"
    out.operation = end === 3 || (end === 4 && path.charCodeAt(3) === 47) ? 'ping' : 'other';
    return;
  }
  if (end === 8 && path.startsWith('/v2/auth')) {
    out.operation = 'token';
    return;
  }
  if (end === 12 && path.startsWith('/v2/_catalog')) {
    out.operation = 'catalog';
    return;
  }
  const nameStart = NAME_START;
  // A trailing slash only appears on the upload-start route.
  if (path.charCodeAt(end - 1) === 47) {
    const tail = '/blobs/uploads/';
    const at = end - tail.length;
    if (method === 'POST' && at > nameStart && path.startsWith(tail, at) && setName(out, path, nameStart, at)) {
      out.operation = 'push_blob_start';
      return;
    }
    return other(out);
  }
  // Last segment (reference, digest, upload id or "list") and the one before it.
  const s1 = path.lastIndexOf('/', end - 1);
  const s2 = s1 > nameStart ? path.lastIndexOf('/', s1 - 1) : -1;
  if (s2 < nameStart) return other(out);
  const seg2Len = s1 - s2 - 1;
  if (seg2Len === 9 && path.startsWith('manifests', s2 + 1)) {
    if (!setName(out, path, nameStart, s2)) return other(out);
    if (method === 'GET' || method === 'HEAD') out.operation = 'pull_manifest';
    else if (method === 'PUT') out.operation = 'push_manifest';
    else if (method === 'DELETE') out.operation = 'delete_manifest';
    else other(out);
    return;
  }
  if (seg2Len === 5 && path.startsWith('blobs', s2 + 1)) {
    if (end - s1 - 1 === 7 && path.startsWith('uploads', s1 + 1)) {
      // "/v2/<name>/blobs/uploads" without the trailing slash: an upload start too.
      if (method === 'POST' && setName(out, path, nameStart, s2)) {
        out.operation = 'push_blob_start';
        return;
      }
      return other(out);
    }
    if (!setName(out, path, nameStart, s2)) return other(out);
    if (method === 'GET' || method === 'HEAD') out.operation = 'pull_blob';
    else other(out);
    return;
  }
  if (seg2Len === 7 && path.startsWith('uploads', s2 + 1)) {
    const s3 = path.lastIndexOf('/', s2 - 1);
    if (s3 > nameStart && s2 - s3 - 1 === 5 && path.startsWith('blobs', s3 + 1) && setName(out, path, nameStart, s3)) {
      if (method === 'PATCH') out.operation = 'push_blob_chunk';
      else if (method === 'PUT') out.operation = 'push_blob_commit';
      else other(out); // GET (status) and DELETE (cancel) of an upload
      return;
    }
    return other(out);
  }
  if (seg2Len === 4 && path.startsWith('tags', s2 + 1) && end - s1 - 1 === 4 && path.startsWith('list', s1 + 1)) {
    if (!setName(out, path, nameStart, s2)) return other(out);
    out.operation = 'list_tags';
    return;
  }
  if (seg2Len === 9 && path.startsWith('referrers', s2 + 1)) {
    if (!setName(out, path, nameStart, s2)) return other(out);
    out.operation = 'referrers';
    return;
  }
  other(out);
}
