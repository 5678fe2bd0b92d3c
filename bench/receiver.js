// Callback receivers for bench/bench.py, on 127.0.0.1 and a free port.
//
//   node receiver.js record   answers every POST 200 and records, per request,
//                             the <OrderId> of the body and the wall-clock
//                             arrival time (Unix seconds, sub-ms precision);
//                             GET /records returns them as JSON [[id, t], ...]
//   node receiver.js hang     accepts connections and never answers
//
// Prints "listening PORT" on stdout once ready; runs until killed.
'use strict';
const http = require('http');
const net = require('net');
const { performance } = require('perf_hooks');

const nowSeconds = () => (performance.timeOrigin + performance.now()) / 1000;

function record() {
  const records = [];
  return http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/records') {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(records));
      return;
    }
    const arrived = nowSeconds();
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const match = /<OrderId>([^<]*)<\/OrderId>/.exec(Buffer.concat(chunks).toString());
      records.push([match ? match[1] : '', arrived]);
      response.writeHead(200);
      response.end();
    });
  });
}

function hang() {
  const held = [];  // keep the sockets referenced; never write to them
  return net.createServer((socket) => {
    held.push(socket);
    socket.on('error', () => {});
    socket.on('close', () => held.splice(held.indexOf(socket), 1));
  });
}

const modes = { record, hang };
const mode = process.argv[2];
if (!modes[mode]) {
  console.error('usage: node receiver.js record|hang');
  process.exit(2);
}
const server = modes[mode]();
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
