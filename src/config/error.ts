/**
 * The error of a configuration refused, naming each problem by its key path. Its own module (load.ts
 * re-exports it) so code that only reports config problems (rules/compile.ts, which a replay worker
 * thread loads) does not load the YAML reader and the zod schema with it.
 */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid configuration\n` + problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}
