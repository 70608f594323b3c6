import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

// Credentials arrive as compose `secrets:` files named by *_FILE variables, never in the environment.
describe('MongoDB credentials from secret files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'config-secrets-'));
  const secret = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const base = { POSE_SERVICE_URL: 'http://pose-service:5000' };

  it('adds MONGODB_USERNAME and the password file to a URI that has no credentials', () => {
    const config = loadConfig({
      ...base,
      MONGODB_URI: 'mongodb://mongodb:27017/snowboarding?authSource=snowboarding',
      MONGODB_USERNAME: 'snowboarding-api',
      MONGODB_PASSWORD_FILE: secret('password', 'p@ss:w/rd%\n'),
    });
    assert.equal(config.mongodbUri, 'mongodb://snowboarding-api:p%40ss%3Aw%2Frd%25@mongodb:27017/snowboarding?authSource=snowboarding');
    assert.equal(decodeURIComponent(new URL(config.mongodbUri).password), 'p@ss:w/rd%');
    assert.equal(config.mongodbDb, 'snowboarding');
  });

  it('reads the whole URI from MONGODB_URI_FILE', () => {
    const config = loadConfig({ ...base, MONGODB_URI_FILE: secret('uri', 'mongodb://u:pw@db:27017/snow\n') });
    assert.equal(config.mongodbUri, 'mongodb://u:pw@db:27017/snow');
    assert.equal(config.mongodbDb, 'snow');
  });

  it('refuses a missing, empty or ambiguous secret in one line that never shows the secret', () => {
    const uri = 'mongodb://mongodb:27017/snowboarding';
    const cases: [Record<string, string>, RegExp][] = [
      [{ MONGODB_URI: uri, MONGODB_USERNAME: 'api', MONGODB_PASSWORD_FILE: path.join(dir, 'absent') }, /^MONGODB_PASSWORD_FILE=.*absent cannot be read \(ENOENT\)/],
      [{ MONGODB_URI: uri, MONGODB_USERNAME: 'api', MONGODB_PASSWORD_FILE: secret('empty', '\n') }, /^MONGODB_PASSWORD_FILE=.* is empty/],
      [{ MONGODB_URI: uri, MONGODB_PASSWORD_FILE: secret('pw1', 'hunter2') }, /^MONGODB_PASSWORD_FILE is set but MONGODB_USERNAME is not/],
      [{ MONGODB_URI: 'mongodb://root:hunter2@mongodb:27017/x', MONGODB_USERNAME: 'api', MONGODB_PASSWORD_FILE: secret('pw2', 'hunter2') }, /^MONGODB_URI already names a user/],
      [{ MONGODB_URI: uri, MONGODB_URI_FILE: secret('uri2', uri) }, /^MONGODB_URI and MONGODB_URI_FILE are both set/],
      [{ MONGODB_URI_FILE: secret('bad-uri', 'postgres://u:hunter2@db/x') }, /^MONGODB_URI_FILE=.* does not hold a mongodb:\/\/ or mongodb\+srv:\/\/ URL$/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig({ ...base, ...env }),
        (err: Error) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n') && !err.message.includes('hunter2'),
        `${JSON.stringify(env)} should fail with ${message}`,
      );
    }
  });
});
