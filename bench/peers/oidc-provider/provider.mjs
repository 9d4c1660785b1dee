// The oidc-provider peer of the Tunnus benchmark, configured like Tunnus's
// bench clients (see docs/performance.md, "Peers"): two confidential
// clients (ES256 and RS256 tokens), PKCE S256 required, devInteractions for
// the login form, refresh tokens rotated on every use, JWT access tokens for
// the resource urn:tunnus-bench:api (opaque without a resource indicator).
// Its state is kept in memory, like Tunnus's embedded default, or with
// STORE=redis in Redis (REDIS_URL, keys under REDIS_PREFIX), like Tunnus's
// production mode keeps its short-lived state.
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 3000);
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = process.env.REDIRECT_URI || 'http://127.0.0.1:9/callback';
const secret = process.env.CLIENT_SECRET;
if (!secret) throw new Error('set CLIENT_SECRET');
const RESOURCE = 'urn:tunnus-bench:api';

function signingKey(type, alg) {
  const options = type === 'rsa' ? { modulusLength: 2048 } : { namedCurve: 'P-256' };
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: alg.toLowerCase() };
}

// The built-in development adapter keeps only the last 1,000 entries, which
// under load evicts live sessions and grants. This one keeps everything
// until it expires, as Tunnus's embedded store does.
const store = new Map();
const byGrant = new Map();
const byUid = new Map();
const byUserCode = new Map();
class MemoryAdapter {
  constructor(name) {
    this.name = name;
  }
  key(id) {
    return `${this.name}:${id}`;
  }
  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (payload.grantId) {
      if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
      byGrant.get(payload.grantId).add(key);
    }
    if (payload.uid) byUid.set(payload.uid, id);
    if (payload.userCode) byUserCode.set(payload.userCode, id);
  }
  async find(id) {
    const entry = store.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt && entry.expiresAt < Date.now()) {
      store.delete(this.key(id));
      return undefined;
    }
    return entry.payload;
  }
  async findByUid(uid) {
    const id = byUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }
  async findByUserCode(userCode) {
    const id = byUserCode.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }
  async consume(id) {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    store.delete(this.key(id));
  }
  async revokeByGrantId(grantId) {
    for (const key of byGrant.get(grantId) || []) store.delete(key);
    byGrant.delete(grantId);
  }
}

// oidc-provider's storage interface over Redis. Each model instance is a
// hash: `payload` (JSON) and, once a code or refresh token is used,
// `consumed`; it expires with the model. Lists per grant and keys per uid
// and user code find instances the way the interface asks for them.
// ioredis's auto-pipelining sends the commands of concurrent requests
// together, as Tunnus's multiplexed Redis connection does.
const prefix = process.env.REDIS_PREFIX || 'tunnus-bench-peer:';
let redis;
async function connectRedis() {
  const { Redis } = await import('ioredis');
  redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
  // Only where the instance still exists: a late `consume` must not leave
  // a key without expiry behind.
  redis.defineCommand('consumeIfPresent', {
    numberOfKeys: 1,
    lua: "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'consumed', ARGV[1]) end",
  });
}

class RedisAdapter {
  constructor(name) {
    this.name = name;
  }
  key(id) {
    return `${prefix}${this.name}:${id}`;
  }
  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const m = redis.multi().del(key).hset(key, 'payload', JSON.stringify(payload));
    if (expiresIn) m.expire(key, expiresIn);
    if (payload.grantId) {
      const grant = `${prefix}grant:${payload.grantId}`;
      m.rpush(grant, key);
      // The list lives as long as the longest-lived instance in it: NX sets
      // a first expiry, GT only ever lengthens it.
      if (expiresIn) m.expire(grant, expiresIn, 'NX').expire(grant, expiresIn, 'GT');
    }
    for (const [field, index] of [['uid', 'uid'], ['userCode', 'user-code']]) {
      if (!payload[field]) continue;
      const indexKey = `${prefix}${index}:${payload[field]}`;
      if (expiresIn) m.set(indexKey, id, 'EX', expiresIn);
      else m.set(indexKey, id);
    }
    await m.exec();
  }
  async find(id) {
    const entry = await redis.hgetall(this.key(id));
    if (!entry.payload) return undefined;
    const payload = JSON.parse(entry.payload);
    if (entry.consumed) payload.consumed = Number(entry.consumed);
    return payload;
  }
  async findByIndex(index, value) {
    const id = await redis.get(`${prefix}${index}:${value}`);
    return id === null ? undefined : this.find(id);
  }
  async findByUid(uid) {
    return this.findByIndex('uid', uid);
  }
  async findByUserCode(userCode) {
    return this.findByIndex('user-code', userCode);
  }
  async consume(id) {
    await redis.consumeIfPresent(this.key(id), Math.floor(Date.now() / 1000));
  }
  async destroy(id) {
    await redis.del(this.key(id));
  }
  async revokeByGrantId(grantId) {
    const grant = `${prefix}grant:${grantId}`;
    const keys = await redis.lrange(grant, 0, -1);
    await redis.del(...keys, grant);
  }
}

const storage = process.env.STORE || 'memory';
if (storage === 'redis') await connectRedis();
else if (storage !== 'memory') throw new Error(`STORE must be memory or redis, not ${storage}`);

function client(id, alg) {
  return {
    client_id: id,
    client_secret: secret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: alg,
    scope: 'openid profile email api',
  };
}

const provider = new Provider(issuer, {
  adapter: storage === 'redis' ? RedisAdapter : MemoryAdapter,
  clients: [client('bench-es256', 'ES256'), client('bench-rs256', 'RS256')],
  jwks: { keys: [signingKey('rsa', 'RS256'), signingKey('ec', 'ES256')] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'email', 'api'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'updated_at'],
    email: ['email', 'email_verified'],
  },
  // devInteractions accepts any login; the account is the login itself.
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: sub, email_verified: true, name: 'Aino Virtanen', given_name: 'Aino', family_name: 'Virtanen' };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource, client) => {
        if (resource !== RESOURCE) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'api',
          audience: RESOURCE,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: client.idTokenSignedResponseAlg } },
        };
      },
    },
  },
  // As Tunnus: every client allowed the refresh_token grant gets one (bound
  // to the session), and every use rotates it.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: 300,
    ClientCredentials: 300,
    IdToken: 600,
    AuthorizationCode: 60,
    RefreshToken: 24 * 3600,
    Session: 24 * 3600,
    Grant: 24 * 3600,
    Interaction: 1800,
  },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider (${storage}) listening on ${issuer}`));
