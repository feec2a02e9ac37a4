import { startService } from './server.ts';

const service = await startService();
console.log(`${service.server.name} listening on ${service.server.url}`);
const stop = () => void service.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
