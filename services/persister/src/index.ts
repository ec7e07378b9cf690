export { backoffMs, decode } from './decode.js';
export { dltHeaders } from './dlt.js';
export { loadEnv as loadPersisterEnv, type PersisterEnv, persisterEnv } from './env.js';
export { type RunningPersister, startPersister } from './start.js';
