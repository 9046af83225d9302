/**
 * The Kubernetes example: every document parses, the sidecar's config passes
 * the real config loader with the Downward API variables set, and the pieces
 * reference each other (volumes, ports, Secret keys, ServiceMonitor selector).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { promtool } from '../outputs/servers.js';

const DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const docs: Doc[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) =>
    parseAllDocuments(readFileSync(DIR + f, 'utf8')).map((d) => {
      expect(d.errors, f).toEqual([]);
      return d.toJS() as Doc;
    }),
  );
const find = (kind: string) => docs.find((d) => d['kind'] === kind)!;
/** The ConfigMap's web-config.yml with its certificate paths pointing at certificates made for the test. */
const webConfigWith = (certs: TestCerts) =>
  (find('ConfigMap')['data']['web-config.yml'] as string)
    .replace('/etc/quay-log-exporter-tls/tls.crt', certs.serverCert)
    .replace('/etc/quay-log-exporter-tls/tls.key', certs.serverKey);

describe('Kubernetes example', () => {
  const deployment = find('Deployment');
  const pod = deployment['spec']['template'];
  const sidecar = pod['spec']['containers'].find((c: Doc) => c['name'] === 'quay-log-exporter');

  it('lists every manifest in the kustomization', () => {
    const k = parseAllDocuments(readFileSync(DIR + 'kustomization.yaml', 'utf8'))[0]!.toJS() as Doc;
    expect(new Set(k['resources'])).toEqual(new Set(readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')));
  });

  it('the ConfigMap config passes the config loader with the pod environment', () => {
    const raw = parseAllDocuments(find('ConfigMap')['data']['config.yaml'])[0]!.toJS();
    const env = { POD_NAME: 'quay-7d9f-abcde', POD_NAMESPACE: 'quay', POD_UID: '1234-5678', NODE_NAME: 'node-1', INFLUX_USERNAME: 'quay', INFLUX_PASSWORD: 'pw' };
    // The web config the ConfigMap mounts, with certificates made for the test where the TLS Secret is mounted.
    const dir = mkdtempSync(join(tmpdir(), 'qle-k8s-'));
    const certs = makeCerts(dir);
    writeFileSync(join(dir, 'web-config.yml'), webConfigWith(certs));
    (raw as Doc)['http']['web_config_file'] = join(dir, 'web-config.yml');
    const config = parseConfig(raw, 'configmap', env, '/');
    expect(config.inputs[0]!.paths).toEqual(['/var/log/pods/quay_quay-7d9f-abcde_1234-5678/quay-app/*.log']);
    expect(config.inputs[0]!.framing).toBe('cri');
    expect(config.outputs.influxdb!.tags).toEqual({ pod: 'quay-7d9f-abcde', kube_namespace: 'quay', host: 'node-1' });
    expect(config.prometheus.listen.port).toBe(9464);
    // Every ${VAR} the config uses is set by the sidecar's env.
    const vars = [...find('ConfigMap')['data']['config.yaml'].matchAll(/\$\{(\w+)\}/g)].map((m: RegExpMatchArray) => m[1]);
    const envNames = sidecar['env'].map((e: Doc) => e['name']);
    for (const v of vars) expect(envNames).toContain(v);
  });

  it('its NODE_OPTIONS are accepted by Node in NODE_OPTIONS and size the heap as meant', () => {
    const options = sidecar['env'].find((e: Doc) => e['name'] === 'NODE_OPTIONS')['value'] as string;
    // A V8 flag Node does not allow in NODE_OPTIONS makes it exit 9 before running anything.
    const out = execFileSync(process.execPath, ['-p', "require('v8').getHeapStatistics().heap_size_limit"], { env: { ...process.env, NODE_OPTIONS: options }, encoding: 'utf8' });
    // By hand: 256 MiB of old space + the young generation, 3 × the 2 MiB semi-space (two
    // semi-spaces and the new large-object space) = 262 MiB. V8's own 16 MiB semi-spaces: 304 MiB.
    expect(Number(out)).toBe(262 * 1024 * 1024);
  });

  it('runs the exporter as a sidecar of quay-app with the requested resources and scrape annotations', () => {
    expect(pod['spec']['containers'].map((c: Doc) => c['name'])).toEqual(['quay-app', 'quay-log-exporter']);
    // bench/README.md: ~96 MB at 10,000 series, ~190 MiB with every metric at its cap
    expect(sidecar['resources']).toEqual({ requests: { cpu: '50m', memory: '160Mi' }, limits: { cpu: '500m', memory: '384Mi' } });
    // V8's heap bounded below the limit, young generation 2 MB semi-spaces (bench/scrape-at-cap.mjs and npm run bench measure with the same value)
    expect(sidecar['env'].find((e: Doc) => e['name'] === 'NODE_OPTIONS')).toEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=256 --max-semi-space-size=2' });
    // probes that do not collect every series
    expect(sidecar['readinessProbe']).toMatchObject({ httpGet: { path: '/readyz', port: 'metrics' } });
    expect(sidecar['livenessProbe']).toMatchObject({ httpGet: { path: '/healthz', port: 'metrics' } });
    expect(pod['metadata']['annotations']).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464' });
    const mounts = Object.fromEntries(sidecar['volumeMounts'].map((m: Doc) => [m['name'], m]));
    expect(mounts['pod-logs']).toMatchObject({ mountPath: '/var/log/pods', readOnly: true });
    const volumes = pod['spec']['volumes'].map((v: Doc) => v['name']);
    for (const name of Object.keys(mounts)) expect(volumes).toContain(name);
    const secret = find('Secret');
    for (const e of sidecar['env'].filter((x: Doc) => x['valueFrom']?.['secretKeyRef'])) {
      expect(e['valueFrom']['secretKeyRef']['name']).toBe(secret['metadata']['name']);
      expect(Object.keys(secret['stringData'])).toContain(e['valueFrom']['secretKeyRef']['key']);
    }
  });

  it('runs the sidecar as non-root, reading the 0640 root:root container logs through group 0, read-only root, no escalation', () => {
    expect(sidecar['securityContext']).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      runAsUser: 1000, // the Dockerfile's `node` user
      runAsGroup: 0, // containerd/CRI-O write logs root:root 0640: the group reads them
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // nothing in the pod or the sidecar runs it as uid 0
    expect(pod['spec']['securityContext']?.['runAsUser']).not.toBe(0);
    // the only writable mount is the state emptyDir
    const writable = sidecar['volumeMounts'].filter((m: Doc) => m['readOnly'] !== true).map((m: Doc) => m['name']);
    expect(writable).toEqual(['state']);
    expect(pod['spec']['volumes'].find((v: Doc) => v['name'] === 'state')).toHaveProperty('emptyDir');
  });

  it('serves TLS with basic auth: the web config is mounted, valid for promtool, and matches the scrape Secret and the TLS Secret', async () => {
    const cm = find('ConfigMap');
    const raw = parseAllDocuments(cm['data']['config.yaml'])[0]!.toJS() as Doc;
    const mounts = Object.fromEntries(sidecar['volumeMounts'].map((m: Doc) => [m['name'], m['mountPath']]));
    const volumes = Object.fromEntries(pod['spec']['volumes'].map((v: Doc) => [v['name'], v]));
    // The config names the web config where the ConfigMap is mounted.
    expect(raw['http']['web_config_file']).toBe(`${mounts['config']}/web-config.yml`);
    const web = parseAllDocuments(cm['data']['web-config.yml'])[0]!.toJS() as Doc;
    // Its certificate and key are in the TLS Secret's mount.
    expect(volumes['tls']).toEqual({ name: 'tls', secret: { secretName: 'quay-log-exporter-tls' } });
    expect(web['tls_server_config']['cert_file']).toBe(`${mounts['tls']}/tls.crt`);
    expect(web['tls_server_config']['key_file']).toBe(`${mounts['tls']}/tls.key`);
    // promtool accepts it (with real certificates at those paths).
    const dir = mkdtempSync(join(tmpdir(), 'qle-k8s-web-'));
    const certs = makeCerts(dir);
    writeFileSync(join(dir, 'web-config.yml'), webConfigWith(certs));
    const r = promtool(['check', 'web-config', join(dir, 'web-config.yml')]);
    expect(r.output).toContain('SUCCESS');
    // The scraper's Secret holds the password whose bcrypt hash the exporter has.
    const scrape = docs.find((d) => d['kind'] === 'Secret' && d['metadata']['name'] === 'quay-log-exporter-scrape')!;
    const user = scrape['stringData']['username'];
    expect(await bcrypt.compare(scrape['stringData']['password'], web['basic_auth_users'][user])).toBe(true);
    // The ServiceMonitor uses both, over https; the probes speak HTTPS (and need no credentials).
    const endpoint = find('ServiceMonitor')['spec']['endpoints'][0];
    expect(endpoint).toMatchObject({
      scheme: 'https',
      tlsConfig: { ca: { secret: { name: 'quay-log-exporter-tls', key: 'ca.crt' } } },
      basicAuth: { username: { name: 'quay-log-exporter-scrape', key: 'username' }, password: { name: 'quay-log-exporter-scrape', key: 'password' } },
    });
    expect(sidecar['readinessProbe']['httpGet']['scheme']).toBe('HTTPS');
    expect(sidecar['livenessProbe']['httpGet']['scheme']).toBe('HTTPS');
    expect(raw['http']['open_probes']).toBeUndefined(); // default true: probes open
    expect(pod['metadata']['annotations']['prometheus.io/scheme']).toBe('https');
  });

  it('the ServiceMonitor selects the Service and its metrics port', () => {
    const service = find('Service');
    const monitor = find('ServiceMonitor');
    expect(service['metadata']['labels']).toMatchObject(monitor['spec']['selector']['matchLabels']);
    expect(service['spec']['ports'].map((p: Doc) => p['name'])).toContain(monitor['spec']['endpoints'][0]['port']);
    expect(service['spec']['selector']).toEqual(deployment['spec']['selector']['matchLabels']);
  });
});
