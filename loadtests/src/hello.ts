/**
 * The baseline of the benchmark: a bare node:http server that answers every request with a 202 and a
 * small JSON body, the shape of the gateway's accepted answer. Prints its port on stdout.
 *
 *   node src/hello.ts [port]      (default 0: any free port; listens on 127.0.0.1 only)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = JSON.stringify({ status: 'PENDING', issueId: '00000000-0000-4000-8000-000000000000' });

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
    res.end(BODY);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log((server.address() as AddressInfo).port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
