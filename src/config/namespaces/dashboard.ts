/** Schema of `telemetry/dashboard` (Tollgate's built-in live dashboard). */
import { LISTEN_ADDRESS } from './common.js';

export const DASHBOARD_SCHEMA = {
  type: 'object',
  properties: {
    listen_address: LISTEN_ADDRESS,
    token: { type: 'string', minLength: 8 },
  },
} as const;
