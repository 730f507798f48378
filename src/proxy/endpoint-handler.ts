/** What the router hands a matched request to: one handler per endpoint, built at start-up. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TollgateError } from '../errors/catalogue.js';
import type { CompletionLatch } from '../telemetry/completion.js';
import type { RequestRecord } from '../telemetry/record.js';

export interface EndpointHandler {
  /** `params` are the decoded path parameters in pattern order; `rawQuery` has no leading `?`. */
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    params: readonly string[],
    rawQuery: string,
    rec: RequestRecord,
    /** The request body when a stage already read it (validation/json-schema). */
    body?: Buffer,
  ): void;
}

export interface HandlerDeps {
  /** The proxy's part of the request record: started and done (telemetry/completion.ts). */
  readonly completion: CompletionLatch;
  readonly onBackendError: (endpoint: string, backend: string, err: TollgateError) => void;
  /** Whether stages set response headers before the proxy (CORS, security): no-op answers keep them. */
  readonly presetHeaders?: boolean;
}
