import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_ALLOWED_HOSTS, hostnameOf, originAuthority } from './requestGuards.js';
import { parseTrustProxy, type TrustProxySetting } from './trustProxy.js';

/** Everything the API reads from its environment, validated once at start-up. */
export interface Config {
  port: number;
  mongodbUri: string;
  mongodbDb: string;
  poseServiceUrl: string;
  /** The API's own staging folder: uploads in flight (multipart temp files, tus) and media from before GridFS. */
  uploadDir: string;
  maxUploadBytes: number;
  /** Uploads longer than this are refused (413) after the upload-time probe. */
  maxDurationS: number;
  readyTimeoutMs: number;
  /** How often the SSE watcher reads the subscribed jobs (the pose workers change them from other processes). */
  ssePollMs: number;
  /** Host names the API answers to (DNS-rebinding guard); see requestGuards.ts. */
  allowedHosts: string[];
  /** Extra origins (scheme://host:port) allowed to send state-changing requests besides the request's own host. */
  allowedOrigins: string[];
  /** An upload file with no video document is removed once its mtime is this old (in-flight uploads are younger). */
  orphanGraceMs: number;
  /** TEST ONLY (TEST_ONLY_PAUSE_AFTER_UPLOAD_STORE=1): uploads stop for good between the GridFS write and the insert. */
  testPauseAfterUploadStore: boolean;
  /** TEST ONLY (TEST_ONLY_PAUSE_MIGRATION_AFTER_BYTES=n): the start-up media migration stalls after n bytes. */
  testPauseMigrationAfterBytes: number | null;
  /** Accounts and sessions (see auth/): sign-in is on unless AUTH_DISABLED=true with a loopback PUBLIC_BIND_ADDRESS. */
  auth: AuthConfig;
  /** TRUST_PROXY: the peers whose X-Forwarded-For/-Proto count (trustProxy.ts); default loopback, compose: frontend. */
  trustProxy: TrustProxySetting;
}

export interface AuthConfig {
  disabled: boolean;
  /** Where compose publishes the stack (its BIND_ADDRESS); AUTH_DISABLED is refused unless it is loopback. */
  publicBindAddress: string;
  sessionTtlMs: number;
  /** The first admin, created at start-up when no user of that name exists; null without a password. */
  adminUsername: string;
  adminPassword: string | null;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function readList(env: Env, name: string, fallback: string[], valid: (item: string) => boolean, example: string): string[] {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const items = raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = items.find((item) => !valid(item));
  if (bad !== undefined || items.length === 0) {
    throw new ConfigError(`${name} has an invalid entry ${JSON.stringify(bad ?? raw)}; give a comma-separated list like ${example}`);
  }
  return items;
}

function readInt(env: Env, name: string, fallback: number | undefined, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') {
    if (fallback === undefined) throw new ConfigError(`${name} is required (an integer from ${min} to ${max})`);
    return fallback;
  }
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not an integer; set it to a whole number from ${min} to ${max}`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name}=${raw} is out of range; set it to a whole number from ${min} to ${max}`);
  return value;
}

function readUrl(env: Env, name: string, protocols: string[], fallback?: string): string {
  const raw = env[name]?.trim() || fallback;
  if (!raw) throw new ConfigError(`${name} is required (e.g. ${protocols[0]}//host:port)`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a valid URL; expected ${protocols.join(' or ')}//host:port`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} must use ${protocols.join(' or ')}`);
  }
  return raw;
}

/** The database named in the URI path, or the default. */
function databaseFromUri(uri: string): string {
  const afterHosts = uri.replace(/^mongodb(\+srv)?:\/\/[^/]*/, '');
  const name = afterHosts.replace(/^\//, '').split('?')[0] ?? '';
  return decodeURIComponent(name) || 'snowboarding';
}

/**
 * A secret from the file that `${name}_FILE` names (compose `secrets:` mount it under /run/secrets), trimmed;
 * undefined when `${name}_FILE` is unset. Errors name the file, never its contents.
 */
function readSecretFile(env: Env, name: string): string | undefined {
  const file = env[`${name}_FILE`]?.trim();
  if (!file) return undefined;
  if (env[name]?.trim()) throw new ConfigError(`${name} and ${name}_FILE are both set; keep only ${name}_FILE`);
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${name}_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); mount the secret there`);
  }
  if (!value) throw new ConfigError(`${name}_FILE=${file} is empty; write the secret into it`);
  return value;
}

/**
 * The MongoDB connection string: MONGODB_URI or the file MONGODB_URI_FILE names; with MONGODB_PASSWORD_FILE, the
 * credentials (MONGODB_USERNAME and that file's password) are added to it, so neither sits in the environment.
 */
function readMongoUri(env: Env): string {
  const protocols = ['mongodb:', 'mongodb+srv:'];
  const fromFile = readSecretFile(env, 'MONGODB_URI');
  let uri: string;
  if (fromFile === undefined) {
    uri = readUrl(env, 'MONGODB_URI', protocols);
  } else {
    try {
      uri = readUrl({ MONGODB_URI: fromFile }, 'MONGODB_URI', protocols);
    } catch {
      throw new ConfigError(`MONGODB_URI_FILE=${env.MONGODB_URI_FILE?.trim()} does not hold a mongodb:// or mongodb+srv:// URL`);
    }
  }
  const password = readSecretFile(env, 'MONGODB_PASSWORD');
  if (password === undefined) return uri;
  const username = env.MONGODB_USERNAME?.trim();
  if (!username) throw new ConfigError('MONGODB_PASSWORD_FILE is set but MONGODB_USERNAME is not; set the user the password belongs to');
  const url = new URL(uri);
  if (url.username) throw new ConfigError('MONGODB_URI already names a user; remove the credentials from it or unset MONGODB_PASSWORD_FILE');
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackAddress(address: string): boolean {
  const a = address.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return a === 'localhost' || a === '::1' || /^127(\.\d{1,3}){3}$/.test(a) || /^::ffff:127(\.\d{1,3}){3}$/.test(a);
}

function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(env[name])} is not a boolean; set it to true or false`);
}

/** Sign-in settings; refuses AUTH_DISABLED unless the stack is published on loopback only. */
function readAuthConfig(env: Env): AuthConfig {
  const disabled = readBool(env, 'AUTH_DISABLED', false);
  const publicBindAddress = env.PUBLIC_BIND_ADDRESS?.trim() || '127.0.0.1';
  if (disabled && !isLoopbackAddress(publicBindAddress)) {
    throw new ConfigError(
      `AUTH_DISABLED=true is refused because the stack is published on ${publicBindAddress} (PUBLIC_BIND_ADDRESS), which other machines can reach; ` +
        'bind to 127.0.0.1 or turn sign-in back on',
    );
  }
  const adminUsername = (env.ADMIN_USERNAME?.trim() || 'admin').toLowerCase();
  if (!/^[a-z0-9._-]{3,32}$/.test(adminUsername)) {
    throw new ConfigError(`ADMIN_USERNAME=${JSON.stringify(env.ADMIN_USERNAME)} is not a valid user name; use 3-32 of a-z 0-9 . _ -`);
  }
  const adminPassword = readSecretFile(env, 'ADMIN_PASSWORD') ?? (env.ADMIN_PASSWORD || null);
  if (adminPassword !== null && (adminPassword.length < 8 || adminPassword.length > 256)) {
    throw new ConfigError('ADMIN_PASSWORD (or the file ADMIN_PASSWORD_FILE names) must be 8 to 256 characters long');
  }
  return {
    disabled,
    publicBindAddress,
    sessionTtlMs: readInt(env, 'SESSION_TTL_HOURS', 12, 1, 24 * 365) * 3_600_000,
    adminUsername,
    adminPassword,
  };
}

/** TRUST_PROXY (default `loopback`: a web server or dev proxy on this machine); a bad entry names the variable. */
function readTrustProxy(env: Env): TrustProxySetting {
  const raw = env.TRUST_PROXY?.trim() || 'loopback';
  try {
    return parseTrustProxy(raw);
  } catch (err) {
    throw new ConfigError(`TRUST_PROXY=${JSON.stringify(env.TRUST_PROXY)} is not valid: ${(err as Error).message}`);
  }
}

/** Parses and validates the environment; throws ConfigError with one line naming the bad variable. */
export function loadConfig(env: Env): Config {
  const mongodbUri = readMongoUri(env);
  const uploadDirRaw = env.UPLOAD_DIR?.trim() || '/data/uploads';
  if (!path.isAbsolute(uploadDirRaw)) {
    throw new ConfigError(`UPLOAD_DIR=${JSON.stringify(uploadDirRaw)} must be an absolute path`);
  }
  const config: Config = {
    port: readInt(env, 'PORT', 3001, 0, 65535),
    mongodbUri,
    mongodbDb: env.MONGODB_DB?.trim() || databaseFromUri(mongodbUri),
    poseServiceUrl: readUrl(env, 'POSE_SERVICE_URL', ['http:', 'https:']).replace(/\/+$/, ''),
    uploadDir: path.resolve(uploadDirRaw),
    maxUploadBytes: readInt(env, 'MAX_UPLOAD_MB', 500, 1, 100_000) * 1024 * 1024,
    maxDurationS: readInt(env, 'MAX_DURATION_S', 600, 1, 86_400),
    readyTimeoutMs: readInt(env, 'READY_TIMEOUT_MS', 2_000, 50, 60_000),
    ssePollMs: readInt(env, 'SSE_POLL_MS', 1_000, 10, 60_000),
    allowedHosts: readList(env, 'ALLOWED_HOSTS', DEFAULT_ALLOWED_HOSTS, (h) => hostnameOf(h) === h, 'localhost,127.0.0.1,[::1],backend-api'),
    allowedOrigins: readList(env, 'ALLOWED_ORIGINS', [], (o) => originAuthority(o) !== null && !o.endsWith('/'), 'http://localhost:5173'),
    orphanGraceMs: readInt(env, 'UPLOAD_ORPHAN_GRACE_S', 600, 0, 30 * 86_400) * 1000,
    testPauseAfterUploadStore: env.TEST_ONLY_PAUSE_AFTER_UPLOAD_STORE === '1',
    testPauseMigrationAfterBytes: env.TEST_ONLY_PAUSE_MIGRATION_AFTER_BYTES ? readInt(env, 'TEST_ONLY_PAUSE_MIGRATION_AFTER_BYTES', 0, 1, Number.MAX_SAFE_INTEGER) : null,
    auth: readAuthConfig(env),
    trustProxy: readTrustProxy(env),
  };
  return config;
}
