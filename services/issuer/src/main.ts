import { loadEnv } from './env.js';
import { startIssuer } from './start.js';

const issuer = await startIssuer(loadEnv());
issuer.shutdown.listen();
