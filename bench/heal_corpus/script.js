// The load test bench/heal_quality.py heals: a shop-like service (service.py), 4 VUs for 8 s.
// Thresholds start loose on purpose; the bench heals them on the training runs.
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8766';

export const options = {
  scenarios: {
    shop: { executor: 'constant-vus', vus: 4, duration: '8s' },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'],
  thresholds: {
    http_req_duration: ['p(95)<2000', 'p(99)<3000'],
    'http_req_duration{name:health}': ['p(95)<1000'],
    'http_req_duration{name:items}': ['p(95)<1000', 'p(99)<1500'],
    'http_req_duration{name:search}': ['p(95)<1000', 'p(99)<1500'],
    'http_req_duration{name:report}': ['p(95)<1000', 'p(99)<1500'],
    'http_req_duration{name:orders}': ['p(95)<1000', 'p(99)<1500'],
    http_req_failed: ['rate<0.05'],
    checks: ['rate>0.95'],
  },
};

export default function () {
  const responses = http.batch([
    ['GET', `${BASE}/health`, null, { tags: { name: 'health' } }],
    ['GET', `${BASE}/items`, null, { tags: { name: 'items' } }],
  ]);
  check(responses[1], { 'items 200': (r) => r.status === 200 });
  const found = http.get(`${BASE}/search?q=vu${__VU}-${__ITER}`, { tags: { name: 'search' } });
  check(found, { 'search 200': (r) => r.status === 200 });
  http.get(`${BASE}/report`, { tags: { name: 'report' } });
  const order = http.post(`${BASE}/orders`, JSON.stringify({ item: __ITER % 300, qty: 1 }), {
    headers: { 'Content-Type': 'application/json' },
    tags: { name: 'orders' },
  });
  check(order, { 'order 201': (r) => r.status === 201 });
  sleep(0.05);
}
