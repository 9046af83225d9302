/**
 * Container log framing: unwraps the records a container runtime writes
 * around each line and joins the partial records it splits long lines into
 * (Kubernetes splits at 16 KiB).
 *
 * - cri (containerd, CRI-O): `<RFC3339 time> <stdout|stderr> <P|F> <text>`;
 *   `P` records are joined with the following records of the same stream
 *   up to and including the next `F`.
 * - docker (json-file): `{"log":"text\n","stream":"stdout","time":"…"}`; a
 *   `log` without its trailing newline is a partial joined with the next.
 *
 * A record that does not parse is handed over as it is, so the router counts
 * it (unmatched) instead of it vanishing.
 */
import type { Sink, Stage } from './stage.js';

const STDOUT = 0;
const STDERR = 1;

/** The partial records of one stream, joined up to max bytes. */
class Partial {
  text = '';
  start = 0;
  bytes = 0;
  open = false;
  over = false;
  seen = 0;
}

abstract class FramingStage implements Stage {
  private readonly parts = [new Partial(), new Partial()];
  readonly push: Sink;

  constructor(
    protected readonly next: Sink,
    private readonly maxLineBytes: number,
    private readonly onTruncated: () => void,
    private readonly timeoutMs: number,
  ) {
    this.push = (line, start) => this.frame(line, start);
  }

  protected abstract frame(line: string, start: number): void;

  /** A partial record: held until the stream's next complete record. */
  protected partial(stream: number, text: string, start: number): void {
    const p = this.parts[stream]!;
    if (!p.open) {
      p.open = true;
      p.start = start;
      p.text = '';
      p.bytes = 0;
      p.over = false;
      p.seen = 0;
    }
    this.append(p, text);
  }

  /** A complete record: ends the stream's partial, if any. */
  protected complete(stream: number, text: string, start: number): void {
    const p = this.parts[stream]!;
    if (!p.open) {
      this.next(text, start);
      return;
    }
    this.append(p, text);
    this.emit(p);
  }

  private append(p: Partial, text: string): void {
    if (p.over) return; // past max_line_bytes: the rest is dropped, memory stays bounded
    const n = Buffer.byteLength(text);
    if (p.bytes + n > this.maxLineBytes) {
      const room = this.maxLineBytes - p.bytes;
      p.text += Buffer.from(text).subarray(0, room).toString();
      p.bytes = this.maxLineBytes;
      p.over = true;
      return;
    }
    p.text += text;
    p.bytes += n;
  }

  private emit(p: Partial): void {
    p.open = false;
    if (p.over) this.onTruncated();
    const text = p.text;
    p.text = '';
    this.next(text, p.start);
  }

  heldFrom(): number {
    const [a, b] = this.parts as [Partial, Partial];
    return Math.min(a.open ? a.start : Infinity, b.open ? b.start : Infinity);
  }

  flush(): void {
    const [a, b] = this.parts as [Partial, Partial];
    // Oldest first, so the order of the file is kept.
    const first = a.open && (!b.open || a.start <= b.start) ? a : b;
    const second = first === a ? b : a;
    if (first.open) this.emit(first);
    if (second.open) this.emit(second);
  }

  tick(now: number): void {
    for (const p of this.parts) {
      if (!p.open) continue;
      if (p.seen === 0) p.seen = now;
      else if (now - p.seen >= this.timeoutMs) this.emit(p);
    }
  }
}

/** `2026-11-22T10:15:32.123456789Z stdout F text` */
export class CriFraming extends FramingStage {
  protected frame(line: string, start: number): void {
    const a = line.indexOf(' ');
    // A cheap shape check of the time: "YYYY-MM-DDThh:mm:ss…".
    if (a < 19 || line.charCodeAt(4) !== 45 || line.charCodeAt(10) !== 84) return this.next(line, start);
    const b = line.indexOf(' ', a + 1);
    if (b !== a + 7) return this.next(line, start);
    let stream: number;
    if (line.startsWith('stdout', a + 1)) stream = STDOUT;
    else if (line.startsWith('stderr', a + 1)) stream = STDERR;
    else return this.next(line, start);
    // Tags: "F" or "P", possibly more ":"-separated ones after the first.
    const tag = line.charCodeAt(b + 1);
    const after = line.charCodeAt(b + 2);
    if ((tag !== 70 && tag !== 80) || !(after === 32 || after === 58 || Number.isNaN(after))) return this.next(line, start);
    const sp = line.indexOf(' ', b + 1);
    const text = sp < 0 ? '' : line.slice(sp + 1);
    if (tag === 80) this.partial(stream, text, start);
    else this.complete(stream, text, start);
  }
}

/** `{"log":"text\n","stream":"stdout","time":"…"}` */
export class DockerFraming extends FramingStage {
  protected frame(line: string, start: number): void {
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      return this.next(line, start);
    }
    if (typeof rec !== 'object' || rec === null) return this.next(line, start);
    const log = (rec as { log?: unknown }).log;
    if (typeof log !== 'string') return this.next(line, start);
    const stream = (rec as { stream?: unknown }).stream === 'stderr' ? STDERR : STDOUT;
    if (log.endsWith('\n')) {
      const cut = log.endsWith('\r\n') ? 2 : 1;
      this.complete(stream, log.slice(0, log.length - cut), start);
    } else {
      this.partial(stream, log, start);
    }
  }
}
