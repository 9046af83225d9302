/** The log sources a parser reads, and what an input may be (schema.ts re-exports them): no zod here, for a replay worker thread. */
export const SOURCES = ['nginx', 'gunicorn', 'repomirrorworker', 'gcworker', 'oc-mirror'] as const;
export type SourceName = (typeof SOURCES)[number];
export const INPUT_SOURCES = ['supervisord', ...SOURCES] as const;
export type InputSource = (typeof INPUT_SOURCES)[number];
