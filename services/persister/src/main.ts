import { loadEnv } from './env.js';
import { startPersister } from './start.js';

const persister = await startPersister(loadEnv());
persister.shutdown.listen();
