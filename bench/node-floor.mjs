/**
 * The runtime's own floor, for the idle scenario: the project's Node with the settings Outpost
 * gives itself (MALLOC_ARENA_MAX=2, a 64 KiB mmap threshold, a 2 MiB semi-space), an HTTP server
 * answering its scrape of /metrics, and nothing else. What an agent on this runtime cannot go below.
 * JavaScript, not TypeScript: Node would load its type stripper (a WebAssembly module, ~10 MB) for a .ts file.
 */
import http from 'node:http';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must name the port to listen on');
http
  .createServer((req, res) => {
    res.writeHead(req.url === '/metrics' ? 200 : 404, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(req.url === '/metrics' ? 'node_floor_up 1\n' : '');
  })
  .listen(port, '127.0.0.1');
