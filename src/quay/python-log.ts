/**
 * The Python header reader lives in src/formats/python-log.ts (text and
 * JSONLOG records alike); re-exported here for the Quay parsers that import it.
 */
export { PythonFormat, PythonLogReader } from '../formats/python-log.js';
