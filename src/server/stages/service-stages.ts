/**
 * The service-level stages a config turns on (`security/cors`, `security/http`), built once from the
 * frozen config for request-stages.ts. A service without them gets neither: its requests pay nothing.
 */
import { parseCorsSettings, SECURITY_CORS } from '../../config/namespaces/security-cors.js';
import { parseHttpSecurity, SECURITY_HTTP } from '../../config/namespaces/security-http.js';
import type { GatewayConfig } from '../../config/types.js';
import type { Logger } from '../../log/logger.js';
import { CorsStage } from './cors.js';
import { HttpSecureStage } from './http-secure.js';

export interface ServiceStages {
  readonly cors: CorsStage | undefined;
  readonly httpSecure: HttpSecureStage | undefined;
}

export function serviceStages(config: GatewayConfig, logger: Logger): ServiceStages {
  const cors = parseCorsSettings(config.extraConfig[SECURITY_CORS]);
  const secure = parseHttpSecurity(config.extraConfig[SECURITY_HTTP]);
  return {
    cors: cors === undefined ? undefined : new CorsStage(cors, logger),
    httpSecure: secure === undefined ? undefined : new HttpSecureStage(secure),
  };
}
