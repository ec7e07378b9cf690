import { loadEnv } from './env.js';
import { startGateway } from './start.js';

const gateway = await startGateway(loadEnv());
gateway.shutdown.listen();
