// The held-out journey against server.py: ping, catalog, item, search, order, report.
// No options here: the load model is profile.yaml (passed with --config).
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE = (__ENV.BASE_URL || 'http://127.0.0.1:8766').replace(/\/+$/, '');
const THINK_TIME = Number(__ENV.THINK_TIME || '0.02');
const WORDS = ['amber', 'basalt', 'cedar', 'dune', 'ember', 'fjord', 'garnet', 'harbor', 'iris', 'jade'];

function call(name, res) {
  check(res, { [`${name} ok`]: (r) => r.status >= 200 && r.status < 300 });
  if (THINK_TIME > 0) sleep(THINK_TIME);
}

export default function () {
  const n = Math.floor(Math.random() * 6000);
  call('ping', http.get(`${BASE}/ping`, { tags: { name: 'ping' } }));
  call('catalog', http.get(`${BASE}/items?page=${n % 60}`, { tags: { name: 'catalog' } }));
  call('item', http.get(`${BASE}/items/${n}`, { tags: { name: 'item' } }));
  const word = WORDS[n % WORDS.length];
  call('search', http.get(`${BASE}/search?q=${word}`, { tags: { name: 'search' } }));
  const order = JSON.stringify({ lines: [{ id: n, qty: 1 + (n % 3) }, { id: n + 1, qty: 1 }] });
  const headers = { 'Content-Type': 'application/json' };
  call('order', http.post(`${BASE}/orders`, order, { headers, tags: { name: 'order' } }));
  call('report', http.get(`${BASE}/report`, { tags: { name: 'report' } }));
}
