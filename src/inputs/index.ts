/**
 * Inputs: where lines come from. `createInput` builds a followed input (files
 * or stdin) from its config; `replayStream` reads one file or stdin once, for
 * the `replay` command. Both hand lines to the same LineHandler contract
 * (types.ts) through the same splitter, framing and multi-line stages.
 */
import type { InputConfig } from '../config/schema.js';
import { FileInput } from './file/file-input.js';
import { ForwardInput } from './forward/server.js';
import { StreamInput } from './stdin.js';
import type { Input, InputDeps } from './types.js';

export { replayStream, type ReplayDeps } from './replay.js';
export { oneHandler, type Input, type InputDeps, type LineHandler, type LineStream, type OpenSourceStream, type OpenStream, type StreamInfo } from './types.js';

/** Throws (with the config key in the message) on a multiline config that cannot work. */
export function createInput(config: InputConfig, deps: InputDeps): Input {
  if (config.type === 'stdin') return new StreamInput(config, deps);
  if (config.type === 'forward') return new ForwardInput(config, deps);
  return new FileInput(config, deps);
}
