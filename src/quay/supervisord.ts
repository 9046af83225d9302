/**
 * Lines of Quay's container that carry no program prefix: supervisord's own
 * log (source `supervisord`) and the start-up script's output before
 * supervisord runs (source `container`, patterns/quay-container.grok).
 *
 * supervisord logs (supervisor/process.py, Quay's supervisor 4.x):
 *   `INFO exited: <name> (exit status 0; expected)`
 *   `WARN exited: <name> (terminated by SIGKILL; not expected)`
 * and each becomes one quay_process_exits_total{program, expected}. `stopped:`
 * (a stop supervisord was asked for, e.g. on SIGTERM), `spawned:`,
 * `success:`, `gave up:` and the rest are normal and count as matched only.
 */
import { readSupervisordLog, type SupervisordLogLine } from '../formats/supervisord.js';
import type { CounterFamily, MetricRegistry } from '../metrics/series.js';
import { LineFields } from '../records/fields.js';
import { MessagePattern } from './message-pattern.js';
import { LineResult, type SourceParser } from './types.js';
import type { PatternLibrary } from '../grok/index.js';

/**
 * Every `[program:…]` of Quay's conf/supervisord.conf.jnj in the tags v3.5.1 …
 * v3.18.0 and master: the bounded values of the `program` label (anything
 * else is `other`).
 */
export const QUAY_PROGRAMS: ReadonlySet<string> = new Set([
  'autopruneworker', 'blobuploadcleanupworker', 'builder', 'buildlogsarchiver', 'chunkcleanupworker', 'config-editor',
  'dnsmasq', 'expiredappspecifictokenworker', 'exportactionlogsworker', 'gcworker', 'globalpromstats', 'gunicorn-registry',
  'gunicorn-secscan', 'gunicorn-web', 'jwtproxy', 'logrotateworker', 'manifestbackfillworker', 'manifestsubjectbackfillworker',
  'memcache', 'namespacegcworker', 'nginx', 'notificationworker', 'proxycacheblobworker', 'pullstatsredisflushworker',
  'pushgateway', 'queuecleanupworker', 'quotaregistrysizeworker', 'quotatotalworker', 'reconciliationworker',
  'repomirrorworker', 'repositoryactioncounter', 'repositorygcworker', 'securityscanningnotificationworker',
  'securityworker', 'servicekey', 'storagereplication', 'teamsyncworker',
  // supervisord's own event listener (`[eventlistener:stdout]`)
  'stdout',
]);

const EXITED = 'exited: ';
const EXPECTED = '; expected)';
const NOT_EXPECTED = '; not expected)';

export class SupervisordParser implements SourceParser {
  private readonly line: SupervisordLogLine = { level: '', messageStart: 0 };
  private readonly exits: CounterFamily;

  constructor(
    registry: MetricRegistry,
    /** Records out: what the line said (written only while active). */
    private readonly fields: LineFields = new LineFields(),
  ) {
    this.exits = registry.counter('quay_process_exits_total');
  }

  /** Matched when `line` (from `start`) is supervisord's own log line. */
  parse(line: string, start: number): LineResult {
    const l = this.line;
    if (start !== 0 || !readSupervisordLog(line, l)) return LineResult.Unmatched;
    if (line.startsWith(EXITED, l.messageStart)) {
      const nameStart = l.messageStart + EXITED.length;
      const sp = line.indexOf(' (', nameStart);
      const expected = line.endsWith(NOT_EXPECTED) ? 'no' : line.endsWith(EXPECTED) ? 'yes' : '';
      if (sp > nameStart && expected !== '') {
        const name = line.slice(nameStart, sp);
        this.exits.at(QUAY_PROGRAMS.has(name) ? name : 'other', expected).value++;
      }
    }
    if (this.fields.active) describeSupervisordLine(line, l, this.fields);
    return LineResult.Matched;
  }
}

/** supervisord's state words (supervisor/process.py) that start a message about one program. */
const STATE_WORDS = ['exited', 'stopped', 'spawned', 'success', 'gave up'];

/**
 * Records out: `level`, and for a message about one program its `kind` (exited, spawned, …), `program`
 * (as written: records are no metrics), and what ended it: `exit_status` or `signal`, `expected`; `pid` of a spawn.
 */
function describeSupervisordLine(line: string, l: SupervisordLogLine, f: LineFields): void {
  f.set('level', l.level);
  const colon = line.indexOf(': ', l.messageStart);
  if (colon < 0) return;
  const kind = line.slice(l.messageStart, colon);
  if (!STATE_WORDS.includes(kind)) return;
  f.set('kind', kind.replace(' ', '_'));
  // `spawned: 'nginx' with pid 42`, `exited: nginx (exit status 0; expected)`, `success: nginx entered RUNNING state, …`
  const rest = line.slice(colon + 2);
  const m = /^'?([^\s',]+)'?(?: with pid (\d+))?(?: \((?:exit status (\d+)|terminated by (SIG[A-Z0-9]+))[^;]*(?:; (not expected|expected))?\))?/.exec(rest);
  if (m === null) return;
  f.set('program', m[1]!);
  if (m[2] !== undefined) f.set('pid', Number(m[2]));
  if (m[3] !== undefined) f.set('exit_status', Number(m[3]));
  if (m[4] !== undefined) f.set('signal', m[4]);
  if (m[5] !== undefined) f.set('expected', m[5] === 'expected');
}

/** The container start-up script's lines (QUAY_CONTAINER_LINE, whole line). */
export class ContainerParser implements SourceParser {
  private readonly pattern: MessagePattern;

  constructor(grok: PatternLibrary) {
    this.pattern = new MessagePattern(grok, 'QUAY_CONTAINER_LINE', [], true);
  }

  parse(line: string, start: number): LineResult {
    return this.pattern.match(line, start) ? LineResult.Matched : LineResult.Unmatched;
  }
}
