/** Schema of `auth/api-keys` (KrakenD Enterprise's shape, with Tollgate's `consumer` name per key). */
export const API_KEYS_ROOT_SCHEMA = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key'],
        properties: { key: { type: 'string', minLength: 1 }, consumer: { type: 'string', minLength: 1 }, roles: { type: 'array', items: { type: 'string' } } },
      },
    },
    identifier: { type: 'string', minLength: 1 },
    strategy: { type: 'string', enum: ['header', 'query_string'] },
  },
} as const;

export const API_KEYS_ENDPOINT_SCHEMA = {
  type: 'object',
  properties: { roles: { type: 'array', items: { type: 'string' } }, identifier: { type: 'string' }, strategy: { type: 'string', enum: ['header', 'query_string'] } },
} as const;
