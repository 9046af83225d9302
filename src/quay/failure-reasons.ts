/**
 * Classifies a mirror error text (skopeo stderr, `oc image mirror` output)
 * into a short, bounded reason used as a metric label.
 *
 * The user's `mirror.failure_reasons` are tried first, in order, then the
 * built-in table below; the first regular expression that matches wins, so
 * the order of the table is part of its meaning (see the comments on the
 * rows that must come before others). Nothing matches → `unknown_error`.
 */

export interface FailureReasonRule {
  readonly reason: string;
  readonly match: string;
}

/**
 * Built-in rules, tried top to bottom, case-insensitive. The texts they target
 * are the ones skopeo (containers/image) and `oc` print; the tests next to
 * this file hold one real line per reason.
 */
export const BUILTIN_FAILURE_REASONS: readonly FailureReasonRule[] = [
  // Quay's own texts first: they are unambiguous.
  { reason: 'cancelled', match: String.raw`sync cancelled|context canceled|operation was canceled` },
  { reason: 'preempted', match: String.raw`pre-?empted` },
  { reason: 'decryption_failed', match: String.raw`decrypt` },
  {
    reason: 'invalid_source_registry',
    match: String.raw`source registry location is not allowed|invalid reference format|parsing image name|repository name must (?:be canonical|have at least one component)|unsupported transport|invalid transport`,
  },
  // Before auth_failed: Quay answers an over-quota push with `denied: Quota …`.
  { reason: 'storage_error', match: String.raw`no space left on device|quota|insufficient storage|\b507\b|storage (?:error|driver)|read-only file system` },
  { reason: 'rate_limited', match: String.raw`toomanyrequests|too many requests|\b429\b|rate limit` },
  // Before manifest_invalid: a schema 1 refusal usually also says "manifest invalid".
  { reason: 'schema1_unsupported', match: String.raw`schema ?(?:version )?1\b|schema1|v1\+prettyjws|digests are not preserved` },
  { reason: 'unknown_blob', match: String.raw`unknown blob|blob unknown` },
  { reason: 'manifest_invalid', match: String.raw`manifest invalid|invalid manifest|manifest_invalid|unsupported manifest` },
  {
    reason: 'auth_failed',
    match: String.raw`unauthorized|authentication required|access to the resource is denied|denied:|forbidden|\b40[13]\b|invalid username/password|incorrect username or password|authorization failed|no basic auth credentials`,
  },
  { reason: 'not_found', match: String.raw`manifest unknown|name unknown|not found|\b404\b|does not exist|no such image` },
  // Before tls_error and connection_error: "TLS handshake timeout", "dial tcp …: i/o timeout".
  // Quay kills skopeo with SIGKILL when mirror.skopeo_timeout passes: "(exit code -9)".
  { reason: 'network_timeout', match: String.raw`timeout|timed out|deadline exceeded|exit code -9\)` },
  { reason: 'tls_error', match: String.raw`x509|certificate|tls:|\btls\b|\bssl\b` },
  {
    reason: 'connection_error',
    match: String.raw`connection refused|connection reset|no such host|network is unreachable|no route to host|dial tcp|broken pipe|unexpected eof|\beof\b|connection`,
  },
];

export const UNKNOWN_ERROR = 'unknown_error';

/** Builds the classifier: config rules first, then the built-in table. */
export function createFailureClassifier(extra: readonly { reason: string; match: string }[]): (errorText: string) => string {
  const rules = [...extra, ...BUILTIN_FAILURE_REASONS].map((r) => ({ reason: r.reason, re: new RegExp(r.match, 'i') }));
  return (errorText: string): string => {
    if (errorText === '') return UNKNOWN_ERROR;
    for (const rule of rules) if (rule.re.test(errorText)) return rule.reason;
    return UNKNOWN_ERROR;
  };
}
