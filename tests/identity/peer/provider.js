// An upstream identity provider for the identity tests: the npm package oidc-provider,
// configured from one JSON argument, listening on 127.0.0.1.
//
//   node provider.js '{"port": 0, "name": "national", "clients": [...], "accounts": {...}}'
//
// It prints one line `READY <issuer>` when it listens. Its sign-in pages are minimal HTML
// forms (any password passes) so that tests drive them like a browser: the login form sets
// the account's `acr` (the package's own development pages cannot), and consent is granted
// at once.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const options = JSON.parse(process.argv[2] || '{}');
const host = options.host || '127.0.0.1';
const accounts = options.accounts || {};

function html(title, body) {
  return `<!DOCTYPE html><html><head><title>${title}</title></head><body>${body}</body></html>`;
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
}

async function grantEverything(provider, details, accountId) {
  // Consent is not what these tests are about: grant what was asked for.
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  return grant.save();
}

function configuration(issuer) {
  const prefix = options.name || 'peer';
  return {
    clients: options.clients || [],
    findAccount(ctx, id) {
      const account = accounts[id] || {};
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...(account.claims || {}) };
        },
      };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      roles: ['roles'],
    },
    // Scope claims go into the ID token too, as an IdP of a municipality would send them.
    conformIdTokenClaims: false,
    acrValues: ['urn:chamyeo:acr:basic', 'urn:chamyeo:acr:verified'],
    pkce: { required: () => true },
    responseTypes: ['code'],
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    // Two instances share 127.0.0.1: distinct cookie names keep their sessions apart.
    cookies: {
      keys: [`${prefix}-cookie-key`],
      names: { session: `${prefix}_session`, interaction: `${prefix}_interaction`, resume: `${prefix}_resume` },
    },
    // Tests only: the package refuses to call loopback addresses (its SSRF guard), but the
    // hub's back-channel logout endpoint is on 127.0.0.1 here.
    fetch: (url, init) => {
      const { dispatcher, ...rest } = init || {};
      return globalThis.fetch(url, rest);
    },
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, IdToken: 300, AccessToken: 300, AuthorizationCode: 60 },
  };
}

async function interactions(provider, ctx, next) {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'POST' && match[2]) {
    const body = await formBody(ctx.req);
    const accountId = body.login;
    const acr = (accounts[accountId] || {}).acr || 'urn:chamyeo:acr:basic';
    const grantId = await grantEverything(provider, details, accountId);
    const target = await provider.interactionResult(ctx.req, ctx.res, {
      login: { accountId, acr },
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(target);
    return undefined;
  }
  if (details.prompt.name === 'login') {
    ctx.type = 'html';
    ctx.body = html('Sign in', `<form method="post" action="/interaction/${match[1]}/login">
<input type="hidden" name="prompt" value="login">
<input name="login"><input name="password" type="password"><button>Sign in</button></form>`);
    return undefined;
  }
  const grantId = await grantEverything(provider, details, details.session.accountId);
  const target = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, {
    mergeWithLastSubmission: true,
  });
  ctx.redirect(target);
  return undefined;
}

const server = createServer();
server.listen(options.port || 0, host, () => {
  const issuer = `http://${host}:${server.address().port}`;
  const provider = new Provider(issuer, configuration(issuer));
  provider.use((ctx, next) => interactions(provider, ctx, next));
  server.on('request', provider.callback());
  process.stdout.write(`READY ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
