// node bench/ws/ws_load.mjs --base http://127.0.0.1:8027 --pid <hitl pid>
//   --reviewer <token> --service <token> [--clients 1000] [--rate 100]
//   [--seconds 20]
// Opens --clients idle WebSocket clients, creates --rate decisions per
// second through the API for --seconds, and reports how many event frames
// each client got, the delivery latency, and the server's RSS and CPU.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc, []));
const base = args.base ?? 'http://127.0.0.1:8027';
const clients = Number(args.clients ?? 1000);
const rate = Number(args.rate ?? 100);
const seconds = Number(args.seconds ?? 20);
const pid = args.pid;

function proc() {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  return { rss, ticks };
}

const wsUrl = base.replace(/^http/, 'ws') + '/hitl/ws';
const sockets = [];
const received = new Array(clients).fill(0);
const latencies = [];
let opened = 0, closed = 0;

const before = proc();
await Promise.all(Array.from({ length: clients }, (_, i) => new Promise((resolve) => {
  const ws = new WebSocket(wsUrl, ['hitl.v1', 'bearer.' + args.reviewer]);
  ws.on('open', () => { opened++; resolve(); });
  ws.on('message', (data) => {
    received[i]++;
    if (i === 0) {
      const at = Date.parse(JSON.parse(data).at);
      latencies.push(Date.now() - at);
    }
  });
  ws.on('close', () => { closed++; });
  ws.on('error', () => resolve());
  sockets.push(ws);
})));
const connected = proc();

let created = 0;
const started = Date.now();
const t0 = proc();
await new Promise((resolve) => {
  const timer = setInterval(async () => {
    if (Date.now() - started >= seconds * 1000) { clearInterval(timer); resolve(); return; }
    for (let k = 0; k < rate / 10; k++) {
      const id = `ws-${Date.now()}-${created++}`;
      fetch(base + '/hitl/admin/create-decision', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + args.service },
        body: JSON.stringify({ patch_id: id, patch_metadata: { apv_id: 'a', package_name: 'p',
          current_version: '1', target_version: '2', severity: 'low' } }),
      }).catch(() => {});
    }
  }, 100);
});
await new Promise((r) => setTimeout(r, 2000)); // let the last frames land
const t1 = proc();
const clk = 100; // USER_HZ
const cpu = (t1.ticks - t0.ticks) / clk / ((Date.now() - started) / 1000);
const expected = created; // one decision.created per creation
const got = received.reduce((a, b) => a + b, 0);
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
console.log(JSON.stringify({
  clients, opened, closed_during_run: closed, events_created: expected,
  frames_expected: expected * clients, frames_received: got,
  min_per_client: Math.min(...received), max_per_client: Math.max(...received),
  latency_ms: { p50: pct(0.5), p99: pct(0.99), max: latencies.at(-1) },
  rss_mb: { idle: (before.rss / 2 ** 20).toFixed(1), connected: (connected.rss / 2 ** 20).toFixed(1),
            after: (t1.rss / 2 ** 20).toFixed(1) },
  rss_per_client_kb: ((connected.rss - before.rss) / clients / 1024).toFixed(1),
  server_cpu_cores: cpu.toFixed(2),
}, null, 2));
for (const ws of sockets) ws.terminate();
