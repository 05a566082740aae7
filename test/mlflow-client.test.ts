import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  MLFLOW_LIMITS,
  MlflowClient,
  MlflowError,
  backoffDelayMs,
  imageArtifactStem,
  parseRetryAfterMs,
  previewSize,
  splitLogBatch,
  transportOptionsFromEnv,
  truncateCodePoints,
  type MetricInput,
  type RetryEvent,
} from '../src/track/mlflow/index.ts';
import { closedPort } from './support/closed-port.ts';
import { startFlakyProxy, type FlakyProxy } from './support/flaky-proxy.ts';
import { startMlflowServer, type MlflowTestServer } from './support/mlflow-server.ts';

const FAST = { maxRetries: 3, backoffFactorMs: 5, backoffJitterMs: 0, timeoutMs: 15_000 } as const;
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const bodyBytes = (b: unknown) => Buffer.byteLength(JSON.stringify(b), 'utf8');

describe('log-batch splitting (no server)', () => {
  const metrics = (n: number, key = 'loss'): MetricInput[] =>
    Array.from({ length: n }, (_, i) => ({ key, value: i / 10, timestamp: 1_700_000_000_000 + i, step: i }));

  it('keeps every request within the count limits', () => {
    const params = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`p${i}`, 'v']));
    const bodies = splitLogBatch('r', { metrics: metrics(2500), params });
    for (const b of bodies) {
      assert.ok(b.metrics.length <= 1000 && b.params.length <= 100 && b.tags.length <= 100);
      assert.ok(b.metrics.length + b.params.length + b.tags.length <= 1000);
    }
    assert.deepEqual(
      bodies.map((b) => [b.params.length, b.metrics.length]),
      [
        [100, 900],
        [50, 950],
        [0, 650],
      ],
    );
  });

  it('keeps every request body within 1 MB, counting UTF-8 bytes', () => {
    const params = Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: 'é'.repeat(7000) }));
    const tags = Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: '€'.repeat(9000) }));
    const bodies = splitLogBatch('r', { params, tags, metrics: metrics(10) });
    assert.ok(bodies.length >= 3, `expected a size split, got ${bodies.length} bodies`);
    for (const b of bodies) assert.ok(bodyBytes(b) <= MLFLOW_LIMITS.maxBodyBytes, `${bodyBytes(b)} bytes`);
    const all = bodies.flatMap((b) => b.params);
    assert.equal(all.length, 100);
    assert.ok(all.every((p) => p.value.length === 6000));
    assert.ok(bodies.flatMap((b) => b.tags).every((t) => t.value.length === 8000));
  });

  it('encodes NaN and infinities as the strings MLflow parses', () => {
    const [body] = splitLogBatch('r', {
      metrics: [NaN, Infinity, -Infinity, 1.5].map((value, step) => ({ key: 'm', value, timestamp: 1, step })),
    });
    assert.deepEqual(
      body!.metrics.map((m) => m.value),
      ['NaN', 'Infinity', '-Infinity', 1.5],
    );
    assert.match(JSON.stringify(body), /"NaN"/);
  });

  it('rejects over-long keys before sending, naming the key and the limit', () => {
    const key = 'k'.repeat(251);
    assert.throws(
      () => splitLogBatch('r', { params: { [key]: 'x' } }),
      (e: unknown) =>
        e instanceof MlflowError &&
        e.status === undefined &&
        e.attempts === 0 &&
        /param key 'k{40}…' is 251 characters; MLflow allows at most 250/.test(e.message),
    );
    assert.doesNotThrow(() => splitLogBatch('r', { tags: { ['t'.repeat(250)]: 'x' } }));
  });

  it('truncates by code points, not UTF-16 units', () => {
    assert.equal(truncateCodePoints('😀'.repeat(10), 3), '😀😀😀');
    assert.equal(truncateCodePoints('abc', 6000), 'abc');
  });

  it('rejects the same param twice with different values', () => {
    assert.throws(
      () =>
        splitLogBatch('r', {
          params: [
            { key: 'a', value: '1' },
            { key: 'a', value: '2' },
          ],
        }),
      /given twice/,
    );
    assert.equal(
      splitLogBatch('r', {
        params: [
          { key: 'a', value: '1' },
          { key: 'a', value: '1' },
        ],
      })[0]!.params.length,
      1,
    );
  });
});

describe('retry timing and image naming (no server)', () => {
  it('backs off like urllib3: first retry immediate, then factor*2^(n-1), capped', () => {
    const o = { backoffFactorMs: 2000, backoffJitterMs: 1000, backoffMaxMs: 120_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelayMs(n, o, () => 0)),
      [0, 4000, 8000, 16000, 32000, 64000, 120000, 120000],
    );
    assert.equal(
      backoffDelayMs(2, o, () => 0.5),
      4500,
    );
  });

  it('parses Retry-After seconds and dates', () => {
    assert.equal(parseRetryAfterMs('3'), 3000);
    assert.equal(parseRetryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(parseRetryAfterMs(null), undefined);
    assert.equal(parseRetryAfterMs('soon'), undefined);
  });

  it('names image files exactly like mlflow.log_image', () => {
    assert.equal(imageArtifactStem('samples', 3, 1700000000123, 'u-1'), 'images/samples+step+3+timestamp+1700000000123+u-1');
    assert.equal(imageArtifactStem('gen/grid 1', 0, 5, 'u'), 'images/gen~grid 1+step+0+timestamp+5+u');
    assert.throws(() => imageArtifactStem('a+b', 0, 0, 'u'), /Invalid image key/);
    assert.throws(() => imageArtifactStem('ü', 0, 0, 'u'), /Invalid image key/);
  });

  it('sizes the preview like multimedia.compress_image_size (longer side 256, also upscaling)', () => {
    assert.deepEqual(previewSize(64, 64), { width: 256, height: 256 });
    assert.deepEqual(previewSize(1000, 500), { width: 256, height: 128 });
    assert.deepEqual(previewSize(300, 1000), { width: 76, height: 256 });
  });

  it("reads the Python client's environment variables (seconds there, ms here)", () => {
    const opts = transportOptionsFromEnv({
      MLFLOW_TRACKING_URI: 'http://h:1',
      MLFLOW_TRACKING_TOKEN: '',
      MLFLOW_HTTP_REQUEST_TIMEOUT: '5',
      MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
      MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.5',
    });
    assert.deepEqual(opts, { trackingUri: 'http://h:1', timeoutMs: 5000, maxRetries: 0, backoffFactorMs: 500 });
    assert.throws(() => MlflowClient.fromEnv({}, {}), /MLFLOW_TRACKING_URI is not set/);
    assert.throws(() => transportOptionsFromEnv({ MLFLOW_HTTP_REQUEST_TIMEOUT: 'soon' }), /MLFLOW_HTTP_REQUEST_TIMEOUT must be/);
  });

  it('times out a server that accepts but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const t0 = Date.now();
      await assert.rejects(
        new MlflowClient({ trackingUri: `http://127.0.0.1:${port}` }).checkReachable(300),
        (e: unknown) => e instanceof MlflowError && e.errorCode === 'TIMEOUT' && /no response within 300 ms/.test(e.message),
      );
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('keeps credentials in the tracking URI out of the printable base URL', () => {
    const c = new MlflowClient({ trackingUri: 'http://alice:pw@127.0.0.1:9/prefix' });
    assert.equal(c.trackingUri, 'http://127.0.0.1:9/prefix/');
  });
});

describe('test server harness (no server)', () => {
  it('reports a server that dies at start with its output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fake-python-'));
    const fake = join(dir, 'python3');
    await writeFile(fake, "#!/bin/sh\necho 'Error: no such option: --bogus' >&2\nexit 3\n", { mode: 0o755 });
    try {
      await assert.rejects(
        startMlflowServer({ python: fake, timeoutMs: 5_000, own: true }),
        /did not come up: mlflow server exited with code 3[\s\S]*no such option: --bogus/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('MLflow client against a real server', () => {
  let server: MlflowTestServer;
  let client: MlflowClient;
  let experimentId: string;

  before(async () => {
    // A server of its own: one test restarts it.
    server = await startMlflowServer({ own: true });
    client = new MlflowClient({ trackingUri: server.uri, ...FAST });
    experimentId = await client.createExperiment(unique('client-test'));
  });
  after(async () => {
    await server?.stop();
  });

  const newRun = async (name = unique('run')) => (await client.createRun({ experimentId, runName: name })).info.run_id;

  it('started the server', (t) => {
    t.diagnostic(`mlflow server ${server.external ? '(external) ' : ''}answered /health after ${server.startupMs} ms at ${server.uri}`);
  });

  it('is reachable', async () => {
    await client.checkReachable();
  });

  it('gets and creates experiments by name', async () => {
    const name = unique('exp');
    assert.equal(await client.getExperimentByName(name), undefined);
    const id = await client.createExperiment(name);
    const exp = await client.getExperimentByName(name);
    assert.equal(exp?.experiment_id, id);
    assert.equal(exp?.artifact_location, `mlflow-artifacts:/${id}`);
    await assert.rejects(client.createExperiment(name), (e: unknown) => {
      assert.ok(e instanceof MlflowError);
      assert.equal(e.status, 400);
      assert.equal(e.errorCode, 'RESOURCE_ALREADY_EXISTS');
      assert.match(e.message, /POST experiments\/create/);
      return true;
    });
    assert.equal(await client.getOrCreateExperiment(name), id);
  });

  it('survives losing the create race', async () => {
    const name = unique('race');
    const ids = await Promise.all(Array.from({ length: 6 }, () => client.getOrCreateExperiment(name)));
    assert.equal(new Set(ids).size, 1);

    // Deterministic: the first lookup misses, someone else creates it, our create gets RESOURCE_ALREADY_EXISTS.
    const name2 = unique('race');
    const otherId = await client.createExperiment(name2);
    class StaleFirstRead extends MlflowClient {
      private stale = true;
      override async getExperimentByName(n: string) {
        if (this.stale) {
          this.stale = false;
          return undefined;
        }
        return super.getExperimentByName(n);
      }
    }
    assert.equal(await new StaleFirstRead({ trackingUri: server.uri, ...FAST }).getOrCreateExperiment(name2), otherId);
  });

  it('creates a run with user and tags', async () => {
    const run = await client.createRun({
      experimentId,
      runName: 'tagged',
      userId: 'tester',
      startTime: 1_700_000_000_000,
      tags: { 'dcgan.config': 'cfg.yaml' },
    });
    assert.equal(run.info.status, 'RUNNING');
    assert.equal(run.info.user_id, 'tester');
    assert.equal(run.info.start_time, 1_700_000_000_000);
    assert.equal(run.info.artifact_uri, `mlflow-artifacts:/${experimentId}/${run.info.run_id}/artifacts`);
    const tags = Object.fromEntries((await client.getRun(run.info.run_id)).data.tags.map((t) => [t.key, t.value]));
    assert.equal(tags['mlflow.user'], 'tester');
    assert.equal(tags['mlflow.runName'], 'tagged');
    assert.equal(tags['dcgan.config'], 'cfg.yaml');
  });

  it('logs >1000 metrics split over requests, with NaN and infinities, and reads the history back', async () => {
    const runId = await newRun();
    const t0 = 1_700_000_000_000;
    const loss = Array.from({ length: 2500 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), timestamp: t0 + i, step: i }));
    const odd = [NaN, Infinity, -Infinity, 0].map((value, step) => ({ key: 'odd', value, timestamp: t0, step }));
    const { requests } = await client.logBatch(runId, { metrics: [...loss, ...odd] });
    assert.equal(requests, 3);

    const history = (await client.getMetricHistory(runId, 'loss')).sort((a, b) => a.step - b.step);
    assert.equal(history.length, 2500);
    assert.deepEqual(history[1234], { key: 'loss', value: 1 / 1235, timestamp: t0 + 1234, step: 1234 });

    const oddBack = (await client.getMetricHistory(runId, 'odd')).sort((a, b) => a.step - b.step).map((m) => m.value);
    assert.ok(Number.isNaN(oddBack[0]));
    // The SQL store clamps infinities to ±DBL_MAX when storing them.
    assert.ok(oddBack[1] === Infinity || oddBack[1] === Number.MAX_VALUE, String(oddBack[1]));
    assert.ok(oddBack[2] === -Infinity || oddBack[2] === -Number.MAX_VALUE, String(oddBack[2]));
    assert.equal(oddBack[3], 0);
  });

  it("logs params and tags: truncated to the server's limits, over 1 MB split", async () => {
    const runId = await newRun();
    const params = Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: `${i}:`.padEnd(7000, 'x') }));
    const tags = Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 'y'.repeat(9000) }));
    const { requests } = await client.logBatch(runId, { params: [...params, { key: 'emoji', value: '😀'.repeat(7000) }], tags });
    assert.ok(requests >= 2, `expected the 1 MB split, got ${requests} request(s)`);

    const run = await client.getRun(runId);
    const p = Object.fromEntries(run.data.params.map((kv) => [kv.key, kv.value]));
    assert.equal(run.data.params.length, 101);
    assert.equal(p.p42, '42:'.padEnd(6000, 'x'));
    assert.equal(p.emoji, '😀'.repeat(6000), 'server and client agree on code-point truncation');
    assert.equal(run.data.tags.find((t) => t.key === 't7')?.value.length, 8000);
  });

  it('reports the 250-character key limit clearly (client-side and from the server)', async () => {
    const runId = await newRun();
    const key = 'k'.repeat(251);
    await assert.rejects(client.logBatch(runId, { params: { [key]: 'v' } }), /param key 'k+…' is 251 characters; MLflow allows at most 250/);
    await assert.rejects(
      client.http.json('POST', 'api/2.0/mlflow/runs/log-batch', { json: { run_id: runId, params: [{ key, value: 'v' }] } }),
      (e: unknown) => {
        assert.ok(e instanceof MlflowError);
        assert.equal(e.status, 400);
        assert.equal(e.errorCode, 'INVALID_PARAMETER_VALUE');
        assert.match(e.message, /POST runs\/log-batch failed \(HTTP 400 INVALID_PARAMETER_VALUE\).*maximum length of 250/);
        assert.equal(e.attempts, 1, 'a 400 is not retried');
        return true;
      },
    );
  });

  it('refuses to change a logged param', async () => {
    const runId = await newRun();
    await client.logBatch(runId, { params: { lr: '0.0002' } });
    await client.logBatch(runId, { params: { lr: '0.0002' } });
    await assert.rejects(
      client.logBatch(runId, { params: { lr: '0.001' } }),
      (e: unknown) => e instanceof MlflowError && e.status === 400 && /Changing param values is not allowed/.test(e.message),
    );
  });

  it('uploads artifacts with awkward names and lists them', async () => {
    const runId = await newRun();
    const files: Record<string, string> = {
      'plain.txt': 'plain',
      'with space.txt': 'space',
      'a+b=c&d?.txt': 'symbols',
      'dir one/ünï código 日本.json': '{}',
      'dir one/nested/x+y z.bin': 'bin',
    };
    for (const [path, content] of Object.entries(files)) await client.uploadArtifact(runId, path, Buffer.from(content));

    const root = await client.listArtifacts(runId);
    assert.deepEqual(root.map((f) => [f.path, f.is_dir]).sort(), [
      ['a+b=c&d?.txt', false],
      ['dir one', true],
      ['plain.txt', false],
      ['with space.txt', false],
    ]);
    const sub = await client.listArtifacts(runId, 'dir one');
    assert.deepEqual(sub.map((f) => f.path).sort(), ['dir one/nested', 'dir one/ünï código 日本.json']);
    assert.deepEqual(
      (await client.listArtifacts(runId, 'dir one/nested')).map((f) => [f.path, f.file_size]),
      [['dir one/nested/x+y z.bin', 3]],
    );
    for (const [path, content] of Object.entries(files)) assert.equal((await client.downloadArtifact(runId, path)).toString(), content);
    await assert.rejects(client.uploadArtifact(runId, '../escape.txt', Buffer.from('x')), /Invalid artifact path/);
  });

  it('logs an image the way mlflow.log_image does', async () => {
    const runId = await newRun();
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 60 } } })
      .png()
      .toBuffer();
    const ts = 1_700_000_000_456;
    const paths = await client.logImage(runId, { key: 'gen/samples', step: 7, timestamp: ts, png });

    const listed = (await client.listArtifacts(runId, 'images')).map((f) => f.path).sort();
    assert.deepEqual(listed, [...paths].sort());
    assert.equal(listed.length, 2);
    const re =
      /^images\/gen~samples\+step\+7\+timestamp\+1700000000456\+[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(\+compressed\.webp|\.png)$/;
    for (const p of listed) assert.match(p, re);
    assert.equal(listed[0]!.replace(/\+compressed\.webp$/, ''), listed[1]!.replace(/\.png$/, ''));

    const original = await client.downloadArtifact(runId, paths[0]!);
    assert.deepEqual(original, png);
    const preview = await sharp(await client.downloadArtifact(runId, paths[1]!)).metadata();
    assert.deepEqual([preview.format, preview.width, preview.height], ['webp', 256, 192]);

    const tags = (await client.getRun(runId)).data.tags;
    assert.equal(tags.find((t) => t.key === 'mlflow.loggedImages')?.value, 'True');
    await assert.rejects(client.logImage(runId, { key: 'bad:key', png }), /Invalid image key/);
  });

  it('finishes and kills runs, and finds them by status', async () => {
    const done = await newRun();
    const killed = await newRun();
    const info = await client.updateRun(done, { status: 'FINISHED' });
    assert.equal(info.status, 'FINISHED');
    await client.updateRun(killed, { status: 'KILLED', endTime: 1_800_000_000_000 });
    await client.setTag(killed, 'dcgan.reason', 'sigint');

    const a = (await client.getRun(done)).info;
    assert.equal(a.status, 'FINISHED');
    assert.ok(a.end_time && a.end_time >= (a.start_time ?? 0));
    const b = await client.getRun(killed);
    assert.equal(b.info.status, 'KILLED');
    assert.equal(b.info.end_time, 1_800_000_000_000);
    assert.equal(b.data.tags.find((t) => t.key === 'dcgan.reason')?.value, 'sigint');

    const found = await client.searchRuns({ experimentIds: [experimentId], filter: "tags.`dcgan.reason` = 'sigint'" });
    assert.deepEqual(
      found.runs.map((r) => [r.info.run_id, r.info.status]),
      [[killed, 'KILLED']],
    );
  });

  describe('faults (through a proxy that fails chosen requests)', () => {
    let proxy: FlakyProxy;
    before(async () => {
      proxy = await startFlakyProxy(server.uri);
    });
    after(async () => {
      await proxy?.close();
    });

    const viaProxy = (extra: Partial<ConstructorParameters<typeof MlflowClient>[0]> = {}) => {
      const retries: RetryEvent[] = [];
      const c = new MlflowClient({ trackingUri: proxy.uri, ...FAST, onRetry: (e) => retries.push(e), ...extra });
      return { c, retries };
    };
    const seenFor = (path: string) => proxy.seen.filter((r) => r.url.includes(path));

    it('retries 503 and the write lands on the real server', async () => {
      const { c, retries } = viaProxy();
      const name = unique('retry503');
      proxy.failNext({ status: 503 }, { status: 503 });
      const before = seenFor('experiments/create').length;
      const id = await c.createExperiment(name);
      assert.equal(seenFor('experiments/create').length - before, 3);
      assert.deepEqual(
        retries.map((r) => [r.attempt, r.status, r.endpoint]),
        [
          [1, 503, 'POST experiments/create'],
          [2, 503, 'POST experiments/create'],
        ],
      );
      assert.equal((await client.getExperimentByName(name))?.experiment_id, id);
    });

    it('honours Retry-After on 429', async () => {
      const { c, retries } = viaProxy();
      const runId = await newRun();
      proxy.failNext({ status: 429, headers: { 'retry-after': '1' }, body: JSON.stringify({ error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' }) });
      const t0 = Date.now();
      await c.setTag(runId, 'after', '429');
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 950, `waited only ${elapsed} ms`);
      assert.deepEqual(
        retries.map((r) => [r.status, r.delayMs]),
        [[429, 1000]],
      );
      assert.equal((await client.getRun(runId)).data.tags.find((t) => t.key === 'after')?.value, '429');
    });

    it('gives up after maxRetries with the last status', async () => {
      const { c } = viaProxy();
      proxy.failNext(...Array.from({ length: 4 }, () => ({ status: 503 })));
      await assert.rejects(c.getExperimentByName('whatever'), (e: unknown) => {
        assert.ok(e instanceof MlflowError);
        assert.equal(e.status, 503);
        assert.equal(e.attempts, 4);
        assert.match(e.message, /GET experiments\/get-by-name failed \(HTTP 503 TEMPORARILY_UNAVAILABLE\).*after 4 attempts/);
        return true;
      });
    });

    it('sends bearer or basic auth and never puts secrets in errors', async () => {
      const secret = 's3cr3t-token-value';
      const bearer = viaProxy({ token: secret }).c;
      await bearer.checkReachable();
      assert.equal(proxy.seen.at(-1)?.headers.authorization, `Bearer ${secret}`);

      const basic = viaProxy({ username: 'alice', password: 'pa55word', token: secret }).c;
      await basic.checkReachable();
      assert.equal(proxy.seen.at(-1)?.headers.authorization, `Basic ${Buffer.from('alice:pa55word').toString('base64')}`);

      proxy.failNext({ status: 401, body: 'Unauthorized' });
      await assert.rejects(bearer.checkReachable(), (e: unknown) => {
        assert.ok(e instanceof MlflowError);
        assert.equal(e.status, 401);
        assert.match(e.message, /MLFLOW_TRACKING_TOKEN/);
        assert.ok(!e.message.includes(secret) && !JSON.stringify(e).includes(secret));
        return true;
      });
    });
  });

  it('restarts on the same port with the same store', async (t) => {
    const runId = await newRun();
    await client.logBatch(runId, { params: { kept: 'yes' } });
    await client.uploadArtifact(runId, 'kept.txt', Buffer.from('kept'));
    const uri = server.uri;
    await server.restart();
    t.diagnostic(`restart answered /health after ${server.startupMs} ms`);
    assert.equal(server.uri, uri);
    assert.equal((await client.getRun(runId)).data.params.find((p) => p.key === 'kept')?.value, 'yes');
    assert.equal((await client.downloadArtifact(runId, 'kept.txt')).toString(), 'kept');
  });

  it('fails fast and clearly on a wrong URI (closed port)', async () => {
    const port = await closedPort();
    const c = new MlflowClient({ trackingUri: `http://127.0.0.1:${port}`, token: 'tok-should-not-leak' });
    const t0 = Date.now();
    await assert.rejects(c.checkReachable(), (e: unknown) => {
      assert.ok(e instanceof MlflowError);
      assert.equal(e.errorCode, 'NETWORK_ERROR');
      assert.match(e.message, new RegExp(`could not reach the MLflow server at http://127\\.0\\.0\\.1:${port}/ \\(ECONNREFUSED\\)`));
      assert.ok(!e.message.includes('tok-should-not-leak'));
      return true;
    });
    assert.ok(Date.now() - t0 < 2000);
  });
});
