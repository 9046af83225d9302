/**
 * The stages between the line splitter and the handler (framing, multi-line).
 * A line travels with the byte offset of its first byte in the file, so a
 * stage that holds lines can say where the oldest held one starts: the input
 * never saves an offset past a line that has not reached the handler.
 */

/** Receives a line (no newline) and the file offset of its first byte. */
export type Sink = (line: string, start: number) => void;

export interface Stage {
  /** Takes the next line; hands complete lines or events to the next sink. */
  readonly push: Sink;
  /** Offset of the first byte of the oldest line still held, or Infinity when none is. */
  heldFrom(): number;
  /** Hands over everything held, as it is (end of input, rotation, stop). */
  flush(): void;
  /**
   * Called on every poll: hands over what has been held longer than its
   * timeout. Held items are stamped on the first tick that sees them (no clock
   * read per line), so a timeout fires at most one poll interval late.
   */
  tick(now: number): void;
  /**
   * Only a stage that hands lines over later, not within push (src/threads: lines parsed in
   * worker threads): resolves once everything pushed so far is handed over, or can never be (a
   * worker died: heldFrom() then keeps those lines unsaved). The input waits on it before a
   * final save, a rotated file's release and a truncation.
   */
  settle?(): Promise<void>;
  /** Only such a stage: a promise while it holds as much as it may; the input reads on once it resolves. */
  backlog?(): Promise<void> | undefined;
}
