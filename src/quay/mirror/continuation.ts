/**
 * Lines of a Python traceback that reach a parser on their own (no multiline
 * stage configured): they belong to the event before them, so they count as
 * the source's grammar, not as unmatched. Cheap checks only.
 */
const EXCEPTION_LINE = /^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)(?::|$)/;

export function isTracebackContinuation(line: string, start: number): boolean {
  const c = line.charCodeAt(start);
  if (c === 32 || c === 9) return true; // "  File …", "    code"
  return (
    line.startsWith('Traceback (most recent call last):', start) ||
    line.startsWith('During handling of the above exception', start) ||
    line.startsWith('The above exception was the direct cause', start) ||
    EXCEPTION_LINE.test(start === 0 ? line : line.slice(start, start + 200))
  );
}
