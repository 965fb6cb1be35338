// An independent OpenID Provider for the login test: panva's certified node-oidc-provider
// (npm "oidc-provider"), configured with one confidential client and a few accounts, so the
// portal's relying party is shown to work against an implementation nobody here wrote.
//
//   node server.mjs '<json>'   json = {clientId, clientSecret, redirectUri, accounts: {login: claims}}
//
// Listens on a free 127.0.0.1 port and prints its issuer URL as the first line of stdout once
// it accepts connections. Logging in uses the provider's development interactions (a login
// form that accepts any password for a known login, then a consent form).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";

import Provider from "oidc-provider";

const config = JSON.parse(process.argv[2]);
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-signing-key", use: "sig", alg: "RS256" };

async function findAccount(ctx, id) {
  const claims = config.accounts[id];
  if (!claims) {
    return undefined;
  }
  return { accountId: id, claims: async () => ({ ...claims, sub: id }) };
}

const server = createServer();
server.listen(0, "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.clientId,
      client_secret: config.clientSecret,
      redirect_uris: [config.redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      require_auth_time: true,
    }],
    pkce: { required: () => true },
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    claims: { openid: ["sub"], profile: ["name", "id_number", "org_name", "org_credit_code"] },
    findAccount,
    features: { devInteractions: { enabled: true } },
  });
  server.on("request", provider.callback());
  process.stdout.write(`${issuer}\n`);
});

process.on("SIGTERM", () => server.close(() => process.exit(0)));
