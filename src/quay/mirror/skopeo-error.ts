/**
 * Reading the skopeo stderr Quay logs in `Skopeo command failed (exit code N): <stderr>`.
 *
 * With DEBUGLOG=true Quay runs `skopeo --debug`, so that stderr is dozens of
 * `level=debug` lines (registry pings answered 401 are normal there) and the
 * error itself is the last `level=fatal` line: classify that line, not the
 * whole text. A failed `skopeo list-tags` (the first call of a sync) says
 * "Error listing repository tags" (skopeo cmd/skopeo/list_tags.go).
 */

/** The part of a skopeo stderr that states the error. */
export function skopeoErrorCore(text: string): string {
  for (const marker of ['level=fatal', 'level=error']) {
    const at = text.lastIndexOf(marker);
    if (at < 0) continue;
    // From the start of that line: `time="…" level=fatal msg="…"`.
    const from = text.lastIndexOf('\n', at) + 1;
    const nl = text.indexOf('\n', at);
    return text.slice(from, nl < 0 ? text.length : nl);
  }
  return text;
}

/**
 * Whether a logged skopeo stderr states an error: a `level=fatal`/`level=error` line, or any text
 * that is not logrus output. Quay v3.5–3.7 log the stderr of successful runs too (`--debug` noise).
 */
export function hasSkopeoError(text: string): boolean {
  if (text.trim() === '') return false;
  return text.includes('level=fatal') || text.includes('level=error') || !text.includes('level=');
}

const LIST_TAGS = /listing repository tags/i;

export function isListTagsFailure(text: string): boolean {
  return LIST_TAGS.test(text);
}

const TAGS_LIST_URL = /https?:\/\/([^/\s"\\]+)\/v2\/([^\s"\\?]+?)\/tags\/list/;
/** Docker Hub's API hosts; Quay's mirror config names the registry `docker.io`. */
const DOCKER_HUB_API = new Set(['registry-1.docker.io', 'index.docker.io', 'registry.hub.docker.com']);

/**
 * The upstream (registry/path) whose tag list failed, from skopeo's debug
 * output (`GET https://quay.io/v2/prometheus/node-exporter/tags/list`); '' when absent.
 */
export function listTagsUpstream(text: string): string {
  const m = TAGS_LIST_URL.exec(text);
  if (!m) return '';
  const host = DOCKER_HUB_API.has(m[1]!) ? 'docker.io' : m[1]!;
  return host + '/' + m[2]!;
}
