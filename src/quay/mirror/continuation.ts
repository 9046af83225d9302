/**
 * Traceback lines that reach a parser on their own: the rule is in
 * src/formats/python-traceback.ts (one rule for every program); this name is
 * kept for the parsers that import it.
 */
export { isTracebackLine as isTracebackContinuation } from '../../formats/python-traceback.js';
