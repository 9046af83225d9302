/**
 * One error type for everything the grok compiler refuses, so callers (config
 * loading, the `grok` command) can show the message as is and exit 2.
 */
export class GrokError extends Error {
  /** The pattern the problem is in; undefined when it is in the expression itself. */
  readonly pattern: string | undefined;
  /** `file:line` (or another origin label) of that pattern, when known. */
  readonly origin: string | undefined;

  constructor(message: string, pattern?: string, origin?: string) {
    super(message);
    this.name = 'GrokError';
    this.pattern = pattern;
    this.origin = origin;
  }
}
