/** The mirror's route on the process's HTTP server (src/http). */
import { json, type Route } from '../../http/server.js';
import type { MirrorTracker } from './index.js';

export function mirrorRoutes(mirror: MirrorTracker): Record<string, Route> {
  return {
    '/mirror/health': (req) => {
      const { status, body } = mirror.health(req.query, Date.now());
      return json(status, body);
    },
  };
}
