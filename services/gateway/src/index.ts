export { createApp, type GatewayDeps } from './app.js';
export { type GatewayEnv, gatewayEnv, loadEnv as loadGatewayEnv } from './env.js';
export { IssuerClient } from './issuer-client.js';
export { RateLimiter } from './rate-limit.js';
export { type RunningGateway, startGateway } from './start.js';
