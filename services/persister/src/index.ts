export { type PersisterEnv, persisterEnv, loadEnv as loadPersisterEnv } from './env.js';
export { type RunningPersister, startPersister } from './start.js';
export { decode, backoffMs } from './decode.js';
export { dltHeaders } from './dlt.js';
