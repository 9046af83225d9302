/**
 * Which pod a container log belongs to, from the path kubelet gives it:
 *
 *   /var/log/containers/<pod>_<namespace>_<container>-<container id>.log   (symlinks)
 *   /var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart>.log    (the files; rotated: N.log.<YYYYMMDD-hhmmss>)
 *
 * Only the shape of the names is checked, not the directory, so a copy of
 * the tree elsewhere reads the same. Pod names are DNS subdomains and
 * namespaces and containers DNS labels: none holds an underscore.
 */
export interface PodRef {
  readonly pod: string;
  readonly namespace: string;
  readonly container: string;
}

const CONTAINERS = /(?:^|\/)([a-z0-9][-a-z0-9.]{0,252})_([a-z0-9][-a-z0-9]{0,62})_([a-z0-9][-a-z0-9]{0,62})-[0-9a-f]{12,64}\.log$/;
const PODS = /(?:^|\/)([a-z0-9][-a-z0-9]{0,62})_([a-z0-9][-a-z0-9.]{0,252})_[0-9a-f][-0-9a-f]{7,63}\/([a-z0-9][-a-z0-9]{0,62})\/\d+\.log(?:\.\d{8}-\d{6})?$/;

export function podOfPath(path: string): PodRef | undefined {
  let m = CONTAINERS.exec(path);
  if (m !== null) return { pod: m[1]!, namespace: m[2]!, container: m[3]! };
  m = PODS.exec(path);
  if (m !== null) return { pod: m[2]!, namespace: m[1]!, container: m[3]! };
  return undefined;
}
