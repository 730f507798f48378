/**
 * The `validation/json-schema` part of a compiled route (compile-routes.ts): the endpoint's schema
 * compiled once (one compiler shared by the routes of a config), its check wrapped around the route's
 * proxy handler, inside the JWT check, as krakend-jsonschema sits in KrakenD's proxy pipe after the
 * endpoint's handler-level checks. An endpoint without the namespace keeps its handler and pays nothing.
 */
import { TollgateError } from '../errors/catalogue.js';
import { BodySchemaCompiler, VALIDATION_JSON_SCHEMA } from '../config/namespaces/validation-json-schema.js';
import type { EndpointConfig, GatewayConfig } from '../config/types.js';
import type { EndpointHandler } from '../proxy/endpoint-handler.js';
import { JsonSchemaHandler } from '../proxy/json-schema-handler.js';
import type { CompletionLatch } from '../telemetry/completion.js';

/** Wraps an endpoint's handler in its body check, when it has one. */
export type JsonSchemaWrap = (ep: EndpointConfig, handler: EndpointHandler) => EndpointHandler;

export function jsonSchemaWrap(config: GatewayConfig, completion: CompletionLatch): JsonSchemaWrap {
  const compiler = new BodySchemaCompiler();
  return (ep, handler) => {
    if (!(VALIDATION_JSON_SCHEMA in ep.extraConfig)) return handler;
    let schema;
    try {
      schema = compiler.compile(ep.extraConfig[VALIDATION_JSON_SCHEMA]);
    } catch (err) {
      // Checked when the config was loaded (config/namespaces/validation-json-schema.ts); a config built another way fails here.
      throw new TollgateError(
        'TG_ERR_CONFIG_INVALID',
        `endpoints[${ep.index}].extra_config["${VALIDATION_JSON_SCHEMA}"]: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return new JsonSchemaHandler({ schema, inner: handler, maxBody: config.maxBufferedBody, completion });
  };
}
