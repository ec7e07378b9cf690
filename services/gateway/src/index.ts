export { gatewayEnv } from './env.js';
export { type RunningGateway, startGateway } from './start.js';
