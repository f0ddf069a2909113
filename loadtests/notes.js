// The notes API journey: one iteration = create -> get -> list -> search -> update -> delete.
//
// This script holds no load model: scenarios, stages, thresholds and summaryTrendStats live in
// loadtests/profiles/*.yaml and reach k6 through `--config` (perfgate converts YAML to JSON).
// Options exported here would beat `--config` (k6 precedence), so the script exports none.
//
// Environment (`-e KEY=VALUE` or the process environment):
//   BASE_URL    target base URL, default http://127.0.0.1:8000
//   THINK_TIME  seconds slept after each request, default 0.1
//
// Tags on every request: `name` (the endpoint: create_note, get_note, list_notes, search_notes,
// update_note, delete_note) and `stage` (index of the scenario stage the iteration started in,
// "0" for executors without stages, stages.length during graceful ramp-down/stop).
import http from 'k6/http';
import exec from 'k6/execution';
import { check, sleep } from 'k6';

const BASE = (__ENV.BASE_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');
const THINK_TIME = Number(__ENV.THINK_TIME || '0.1');
const JSON_HEADERS = { 'Content-Type': 'application/json' };
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

const UNITS_MS = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

// Go-style duration ("1m30s", "1.5s", "500ms") or a number of milliseconds -> milliseconds.
export function durationMs(value) {
  if (typeof value === 'number') return value;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let match;
  while ((match = re.exec(String(value))) !== null) {
    total += parseFloat(match[1]) * UNITS_MS[match[2]];
  }
  return total;
}

// Index of the stage `elapsedMs` falls in; stages.length once all stages are over.
export function stageIndex(stages, elapsedMs) {
  let end = 0;
  for (let i = 0; i < stages.length; i++) {
    end += durationMs(stages[i].duration);
    if (elapsedMs < end) return i;
  }
  return stages.length;
}

function tagStage() {
  const scenario = exec.test.options.scenarios[exec.scenario.name] || {};
  const stages = scenario.stages || [];
  const stage = stages.length ? stageIndex(stages, Date.now() - exec.scenario.startTime) : 0;
  exec.vu.metrics.tags.stage = String(stage);
}

function think() {
  if (THINK_TIME > 0) sleep(THINK_TIME);
}

function parse(res) {
  try {
    return res.json();
  } catch (e) {
    return null;
  }
}

// A list response is either an array or an object holding one under items/notes/results.
function listOf(body) {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') {
    for (const key of ['items', 'notes', 'results', 'data']) {
      if (Array.isArray(body[key])) return body[key];
    }
  }
  return null;
}

function request(method, path, name, payload) {
  const body = payload === undefined ? null : JSON.stringify(payload);
  const res = http.request(method, `${BASE}${path}`, body, { headers: JSON_HEADERS, tags: { name } });
  think();
  return res;
}

export function setup() {
  const res = http.get(`${BASE}/healthz`, { tags: { name: 'healthz' } });
  if (res.status !== 200) {
    exec.test.abort(`target ${BASE}/healthz answered ${res.status || res.error}`);
  }
}

export default function () {
  tagStage();
  const word = WORDS[exec.scenario.iterationInTest % WORDS.length];
  const title = `${word} note vu${exec.vu.idInTest} it${exec.vu.iterationInScenario}`;
  const note = { title, body: `k6 journey body ${word}`, tags: ['k6', word] };

  const created = request('POST', '/notes', 'create_note', note);
  const createdBody = parse(created);
  const ok = check(created, {
    'create_note status 201': (r) => r.status === 201,
    'create_note returns id': () => createdBody !== null && createdBody.id !== undefined,
  }, { name: 'create_note' });
  if (!ok || createdBody === null || createdBody.id === undefined) return;
  const id = createdBody.id;

  const got = request('GET', `/notes/${id}`, 'get_note');
  check(got, {
    'get_note status 200': (r) => r.status === 200,
    'get_note same note': (r) => { const b = parse(r); return b !== null && b.id === id && b.title === title; },
  }, { name: 'get_note' });

  const page = 1 + (exec.vu.iterationInScenario % 3);
  const listed = request('GET', `/notes?page=${page}&per_page=10`, 'list_notes');
  check(listed, {
    'list_notes status 200': (r) => r.status === 200,
    'list_notes returns a list': (r) => listOf(parse(r)) !== null,
  }, { name: 'list_notes' });

  const found = request('GET', `/notes?q=${word}`, 'search_notes');
  check(found, {
    'search_notes status 200': (r) => r.status === 200,
    'search_notes returns a list': (r) => listOf(parse(r)) !== null,
  }, { name: 'search_notes' });

  const change = { title: `${title} (edited)`, body: `edited ${word}`, tags: ['k6', word, 'edited'] };
  const updated = request('PUT', `/notes/${id}`, 'update_note', change);
  check(updated, {
    'update_note status 200': (r) => r.status === 200,
    'update_note applied': (r) => { const b = parse(r); return b !== null && b.title === change.title; },
  }, { name: 'update_note' });

  const deleted = request('DELETE', `/notes/${id}`, 'delete_note');
  check(deleted, {
    'delete_note status 2xx': (r) => r.status === 200 || r.status === 204,
  }, { name: 'delete_note' });
}
