// The jars of the Kafka broker and the built schema registry, fetched and built by Maven once per machine into a cache
// outside the clone (TICKFLOW_KAFKA_CACHE, else $XDG_CACHE_HOME/tickflow/kafka, else ~/.cache/tickflow/kafka), one
// folder per version and per content of the project files that shape it (scripts/kafka/broker/, scripts/kafka/registry/).
//
// Two test files or two runs may ask at once: a lock file makes the second wait for the first, and each artifact is made
// in a temporary folder renamed into place when complete, so a crash never leaves a half-made folder that looks done.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const BROKER_PROJECT = join(HERE, 'broker');
const REGISTRY_PROJECT = join(HERE, 'registry');

/** Bounds of the Maven steps: a fresh machine downloads about 280 MB into ~/.m2 (2 min under load here). */
const FETCH_TIMEOUT_MS = 10 * 60_000;
const BUILD_TIMEOUT_MS = 15 * 60_000;
/** How long a second run waits for the first one's fetch or build before giving up. */
const LOCK_WAIT_MS = BUILD_TIMEOUT_MS + 60_000;
const LOCK_POLL_MS = 250;
const EMPTY_LOCK_STALE_MS = 10_000;
/** A JVM writes its class-data archive in the moments before it exits: an older partial one was left by a crash. */
const PARTIAL_ARCHIVE_STALE_MS = 10 * 60_000;

/** The cache folder, read when called (never at import time). */
export function kafkaCacheDir(env = process.env) {
  if (env.TICKFLOW_KAFKA_CACHE) return env.TICKFLOW_KAFKA_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tickflow', 'kafka');
}

/** The first `<tag>` text of a pom, for the version the cache is keyed by. */
function pomProperty(pomPath, tag) {
  const value = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(readFileSync(pomPath, 'utf8'))?.[1];
  if (value === undefined) throw new Error(`${pomPath} has no <${tag}>`);
  return value.trim();
}

/** Files under `dir`, sorted, as paths relative to it. */
function filesUnder(dir) {
  const out = [];
  const walk = (at) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out;
}

/** A short hash of a project folder's files: a change to a pom or a resource makes a new cache entry. */
function contentKey(dir) {
  const hash = createHash('sha256');
  for (const file of filesUnder(dir))
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(dir, file)))
      .update('\0');
  return hash.digest('hex').slice(0, 10);
}

function findOnPath(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'].filter((d) => d !== '');
  return dirs.map((d) => join(d, name)).find((path) => existsSync(path));
}

/** Installs a Debian package as root with apt-get, as the project's machines and CI allow; quiet unless it fails. */
function aptInstall(pkg, why, log) {
  log(`installing Debian's ${pkg} with apt-get, ${why}`);
  for (const args of [
    ['-qq', 'update'],
    ['-qq', 'install', '-y', '--no-install-recommends', pkg],
  ]) {
    const result = spawnSync('apt-get', args, {
      encoding: 'utf8',
      timeout: 15 * 60_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  }
}

/** The path of a tool, installing its Debian package when it is missing. */
function ensureTool(name, pkg, why, log) {
  const found = findOnPath(name);
  if (found !== undefined) return found;
  aptInstall(pkg, why, log);
  const installed = findOnPath(name);
  if (installed === undefined) throw new Error(`apt-get install ${pkg} did not provide ${name} on the PATH`);
  return installed;
}

/** The `java` to run: $JAVA_HOME/bin/java, else the PATH's (a JDK 17 or later). */
function findJava(log) {
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return ensureTool('java', 'openjdk-17-jdk-headless', 'to run the Kafka broker and the schema registry', log);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Runs `work` while holding `lockPath` (created exclusively, holding the owner's pid). A lock whose owner died is taken
 * over; waiting is bounded. `onWait` is called once when another process holds it.
 */
async function withLock(lockPath, onWait, work) {
  const deadline = performance.now() + LOCK_WAIT_MS;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(readFileSafe(lockPath), 10);
    // An empty file is a lock being written this instant, or one whose owner died before writing its pid.
    const stale = Number.isInteger(owner) && owner > 0 ? !processAlive(owner) : ageMs(lockPath) > EMPTY_LOCK_STALE_MS;
    if (stale) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (!told) {
      told = true;
      onWait(owner);
    }
    if (performance.now() > deadline) throw new Error(`${lockPath} was held by pid ${owner} for over ${LOCK_WAIT_MS / 60_000} min`);
    await sleep(LOCK_POLL_MS);
  }
  try {
    return await work();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

function ageMs(path) {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Removes the partial class-data archives that JVMs killed while writing them left in `dir`. */
function removeStalePartialArchives(dir) {
  for (const name of readdirSync(dir))
    if (name.endsWith('.partial') && ageMs(join(dir, name)) > PARTIAL_ARCHIVE_STALE_MS) rmSync(join(dir, name), { force: true });
}

function readFileSafe(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Runs a command in `cwd`, bounded in time; rejects with the tail of its output when it fails. */
function run(command, args, cwd, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (data) => {
      output = (output + data.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} in ${cwd} ${signal === 'SIGKILL' ? `took over ${timeoutMs / 1000} s` : `failed (${signal ?? code})`}:\n${output}`,
          ),
        );
    });
  });
}

/**
 * Makes `finalDir` once: under the lock, unless it exists, `make(tempDir)` fills a fresh temporary folder that is then
 * renamed to `finalDir`. Resolves with whether it was made now (false: it was cached).
 */
async function makeOnce(finalDir, make, onWait) {
  if (existsSync(finalDir)) return false;
  const parent = dirname(finalDir);
  mkdirSync(parent, { recursive: true });
  return withLock(`${finalDir}.lock`, onWait, async () => {
    if (existsSync(finalDir)) return false;
    // Only the lock's holder makes one: a temporary folder already here is what an interrupted run left.
    const prefix = `${basename(finalDir)}.tmp-`;
    for (const name of readdirSync(parent)) if (name.startsWith(prefix)) rmSync(join(parent, name), { recursive: true, force: true });
    const tempDir = join(parent, `${prefix}${process.pid}`);
    mkdirSync(tempDir);
    try {
      await make(tempDir);
      renameSync(tempDir, finalDir);
    } catch (error) {
      rmSync(tempDir, { recursive: true, force: true });
      throw error;
    }
    return true;
  });
}

/** Seconds since `start` (a performance.now()), to one decimal. */
const secondsSince = (start) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

/** A key of the `java` binary for the AppCDS archives: an archive only maps into the JVM that wrote it. */
function javaKey(java) {
  const stat = statSync(java);
  return createHash('sha256').update(`${java}\0${stat.size}\0${stat.mtimeMs}`).digest('hex').slice(0, 8);
}

/** Class-path entries of a folder of jars, sorted so that an AppCDS archive sees the same class path every time. */
function jarsIn(dir) {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jar'))
    .sort()
    .map((name) => join(dir, name));
}

/** The one `*-runner.jar` Quarkus built into `dir`. */
function runnerJarIn(dir) {
  const jars = readdirSync(dir).filter((name) => name.endsWith('-runner.jar'));
  if (jars.length !== 1) throw new Error(`${dir} should hold one *-runner.jar, not ${jars.length}: remove the folder to rebuild it`);
  return join(dir, jars[0]);
}

/**
 * @typedef {object} KafkaArtifacts
 * @property {string} java The `java` binary.
 * @property {string} cacheDir The cache folder.
 * @property {{ version: string, dir: string, classPath: string, archive: string, log4jConfig: string }} broker
 *   Kafka's jars (`classPath`) and where its AppCDS archive lives (may not exist yet).
 * @property {{ version: string, dir: string, jar: string, archive: string }} registry The registry's runner jar and archive.
 */

/**
 * Fetches the broker's jars and builds the schema registry unless the cache has them, printing one line per step with
 * its time through `log`. A fresh machine takes about 2–3 minutes (downloads into ~/.m2 and a Quarkus build); cached,
 * a few milliseconds.
 *
 * @param {{ log?: (line: string) => void, registry?: boolean }} [options] `registry: false` skips the registry.
 * @returns {Promise<KafkaArtifacts>}
 */
export async function ensureKafkaArtifacts({ log = () => {}, registry = true } = {}) {
  const cacheDir = kafkaCacheDir();
  const java = findJava(log);
  const jvmKey = javaKey(java);

  const brokerVersion = pomProperty(join(BROKER_PROJECT, 'pom.xml'), 'kafka.version');
  const brokerDir = join(cacheDir, `broker-${brokerVersion}-${contentKey(BROKER_PROJECT)}`);
  let start = performance.now();
  const fetched = await makeOnce(
    brokerDir,
    async (temp) => {
      const mvn = ensureTool('mvn', 'maven', "to fetch Apache Kafka's jars from Maven Central", log);
      cpSync(BROKER_PROJECT, temp, { recursive: true });
      await run(
        mvn,
        ['-q', '-B', 'dependency:copy-dependencies', '-DincludeScope=runtime', '-DoutputDirectory=lib'],
        temp,
        FETCH_TIMEOUT_MS,
      );
    },
    (owner) => log(`waiting for pid ${owner}, which fetches the broker jars into ${brokerDir}`),
  );
  removeStalePartialArchives(brokerDir);
  const libDir = join(brokerDir, 'lib');
  log(
    `broker jars (Apache Kafka ${brokerVersion}, ${jarsIn(libDir).length} jars) ${fetched ? 'fetched with Maven' : 'cached'} in ${brokerDir} (${secondsSince(start)})`,
  );
  const broker = {
    version: brokerVersion,
    dir: brokerDir,
    classPath: jarsIn(libDir).join(delimiter),
    archive: join(brokerDir, `broker-${jvmKey}.jsa`),
    log4jConfig: join(brokerDir, 'log4j2.properties'),
  };
  if (!registry) return { java, cacheDir, broker, registry: undefined };

  const registryVersion = pomProperty(join(REGISTRY_PROJECT, 'pom.xml'), 'apicurio.version');
  const registryDir = join(cacheDir, `registry-${registryVersion}-${contentKey(REGISTRY_PROJECT)}`);
  start = performance.now();
  const built = await makeOnce(
    registryDir,
    async (temp) => {
      const mvn = ensureTool('mvn', 'maven', 'to build the schema registry', log);
      cpSync(REGISTRY_PROJECT, temp, { recursive: true });
      await run(mvn, ['-q', '-B', 'package', '-DskipTests'], temp, BUILD_TIMEOUT_MS);
      // Only the runner and its lib/ are needed to run; the rest of target/ is build leftovers.
      for (const name of readdirSync(join(temp, 'target')))
        if (name !== 'lib' && !name.endsWith('-runner.jar')) rmSync(join(temp, 'target', name), { recursive: true, force: true });
    },
    (owner) => log(`waiting for pid ${owner}, which builds the schema registry into ${registryDir}`),
  );
  log(
    `schema registry (Apicurio Registry ${registryVersion}) ${built ? 'built with Maven' : 'cached'} in ${registryDir} (${secondsSince(start)})`,
  );
  return {
    java,
    cacheDir,
    broker,
    registry: {
      version: registryVersion,
      dir: registryDir,
      jar: runnerJarIn(join(registryDir, 'target')),
      archive: join(registryDir, `registry-${jvmKey}.jsa`),
    },
  };
}
