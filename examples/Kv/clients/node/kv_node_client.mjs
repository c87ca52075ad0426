// The Node.js client `redis` (node-redis 6, from the npm registry; see package.json) against kv and redis-server.
//
//     node kv_node_client.mjs --port P --reference-port R --version N
//
// node-redis 6 opens every connection with HELLO 3 (RESP3) and gives up if the server refuses it. The script runs the
// same commands of each type release N has (1: strings, keys, transactions; 2: + lists and hashes; 5: + sets) against
// the server on P (kv) and the one on R (redis-server), with RESP3's maps and sets mapped to JS Maps and Sets so that a
// reply of the wrong RESP3 type shows, and compares what the client made of every reply. Prints `PASS name` or
// `FAIL name: kv … redis …` per command, then `kv_node_client: N passed, M failed`; exit code 1 if any failed.

import { createClient, RESP_TYPES, WatchError } from 'redis';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
const level = Number(args.version ?? 5);
const timeout = 15000;

/** A reply as comparable JSON: Maps and Sets named and sorted (their order is the server's own), Buffers as text. */
function describe(value) {
  if (value instanceof Map) {
    return { map: [...value].map(([k, v]) => [describe(k), describe(v)]).sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1) };
  }
  if (value instanceof Set) {
    return { set: [...value].map(describe).sort() };
  }
  if (Array.isArray(value)) {
    return value.map(describe);
  }
  if (Buffer.isBuffer(value)) {
    return value.toString('latin1');
  }
  if (value instanceof Error) {
    return { error: value.constructor.name, message: value.message };
  }
  return value ?? null;
}

async function connect(port) {
  const client = createClient({ socket: { host: '127.0.0.1', port: Number(port), connectTimeout: timeout, reconnectStrategy: false } })
    .withTypeMapping({ [RESP_TYPES.MAP]: Map, [RESP_TYPES.SET]: Set });
  client.on('error', () => {}); // Reported by the command that fails.
  await client.connect();
  return client;
}

/** The steps: a name, the first release that has its commands, and what it does with a client (and a second one). */
const steps = [
  ['hello', 1, async c => { const hello = await c.hello(); return [hello.get?.('proto') ?? hello.proto, hello.get?.('server') ?? hello.server]; }],
  ['set-get', 1, async c => [await c.set('s', 'hello'), await c.get('s'), await c.get('missing')]],
  ['incr-mget', 1, async c => [await c.incr('n'), await c.incrBy('n', 5), await c.mGet(['s', 'n', 'missing'])]],
  ['expire-ttl', 1, async c => [await c.set('t', 'v', { EX: 100 }), await c.ttl('t'), await c.persist('t'), await c.ttl('t')]],
  ['keys-exists-del', 1, async c => [(await c.keys('*')).sort(), await c.exists(['s', 'missing']), await c.del(['t', 'missing'])]],
  ['config-get', 1, async c => await c.configGet('appendonly')],
  ['client-name', 1, async c => [await c.clientGetName(), await c.clientSetName('node-client'), await c.clientGetName()]],
  ['error', 1, async c => { try { return await c.incr('s'); } catch (e) { return { error: e.message }; } }],
  ['multi-exec', 1, async c => await c.multi().set('m', '1').incr('m').get('m').get('missing').exec()],
  ['multi-refused', 1, async c => {
    try { return await c.multi().set('m', '2').addCommand(['GET']).exec(); } catch (e) { return { error: e.message.split('\n')[0] }; }
  }],
  ['watch-touched', 1, async (c, other) => {
    await c.watch('w');
    await other.set('w', 'theirs');
    try { return await c.multi().set('w', 'mine').exec(); } catch (e) { return [e instanceof WatchError, await c.get('w')]; }
  }],
  ['watch-kept', 1, async (c, other) => {
    await c.watch('w');
    await other.get('w');
    return [await c.multi().set('w', 'mine').exec(), await c.get('w')];
  }],
  ['lists', 2, async c => [await c.rPush('l', ['a', 'b', 'c']), await c.lRange('l', 0, -1), await c.lPop('l'), await c.lPop('missing'),
    await c.blPop('missing', 0.01), await c.lLen('l')]],
  ['hashes', 2, async c => [await c.hSet('h', { f: '1', g: '2' }), await c.hGetAll('h'), await c.hGetAll('missing'), await c.hGet('h', 'nofield'),
    await c.hDel('h', 'f'), await c.hLen('h'), await c.type('h')]],
  ['multi-lists-hashes', 2, async c => await c.multi().hGetAll('h').rPush('l', 'd').blPop('missing', 0).exec()],
  ['sets', 5, async c => [await c.sAdd('set', ['x', 'y', 'z']), await c.sMembers('set'), await c.sMembers('missing'), await c.sIsMember('set', 'x'),
    await c.sCard('set'), await c.sRem('set', 'x')]],
];

async function runAll(port) {
  const c = await connect(port);
  const other = await connect(port);
  await c.flushAll();
  const results = [];
  for (const [name, since, step] of steps) {
    if (level < since) {
      continue;
    }
    try {
      results.push([name, describe(await step(c, other))]);
    } catch (e) {
      results.push([name, describe(e)]);
    }
  }
  await c.quit();
  await other.quit();
  return results;
}

const timer = setTimeout(() => { console.log(`FAIL timeout: no end within ${timeout * 4} ms`); process.exit(1); }, timeout * 4);
let passed = 0;
let failed = 0;
try {
  const [kv, redis] = [await runAll(args.port), await runAll(args['reference-port'])];
  for (let i = 0; i < kv.length; i++) {
    const [name, seen] = kv[i];
    const expected = redis[i][1];
    if (JSON.stringify(seen) === JSON.stringify(expected)) {
      console.log(`PASS ${name} ${JSON.stringify(seen)}`);
      passed++;
    } else {
      console.log(`FAIL ${name}: kv ${JSON.stringify(seen)} redis ${JSON.stringify(expected)}`);
      failed++;
    }
  }
} catch (e) {
  console.log(`FAIL connection: ${e.message}`);
  failed++;
}
clearTimeout(timer);
console.log(`kv_node_client: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
