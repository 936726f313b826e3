// `npm run token`: asks a broker for a token with lib/client (the local one by default) and prints it.
import { parseArgs } from "node:util";
import { loadCredentials } from "../dev/credentials.ts";
import { DEFAULT_REGION } from "../dev/start.ts";
import { createTokenClient, TokenBrokerError } from "../lib/client/index.ts";

const USAGE = `usage: npm run token -- --scope <scope ...> [--consumer-org <orgno> | --systemuser-org <orgno>]
       [--external-ref <ref>] [--consent-id <uuid> --consent-from <pid or orgno>] [--onbehalfof <value>]
       [--resource <https uri>]... [--exchange altinn] [--min-ttl <seconds>] [--client <name>]
       [--url <broker url>] [--region <region>] [--raw]

--client names the broker's Maskinporten client (required when the broker has several).
--external-ref is the system user's externalRef (with --systemuser-org); --consent-id and --consent-from
name an Altinn consent and who gave it; --onbehalfof is the iss_onbehalfof value registered on the client.

Without --url it calls the local broker (npm start) at http://127.0.0.1:$PORT (default 3000) with the
local credentials in $LOCAL_DIR/credentials.json (LOCAL_DIR default .local); npm start's banner prints the
line with both set as it started. With --url it signs with the standard AWS credential chain (missing or
expired credentials: credentials_error).`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      scope: { type: "string" },
      "consumer-org": { type: "string" },
      "systemuser-org": { type: "string" },
      "external-ref": { type: "string" },
      "consent-id": { type: "string" },
      "consent-from": { type: "string" },
      onbehalfof: { type: "string" },
      resource: { type: "string", multiple: true },
      exchange: { type: "string" },
      "min-ttl": { type: "string" },
      client: { type: "string" },
      url: { type: "string" },
      region: { type: "string" },
      raw: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  }).values;
}
try {
  args = parse();
} catch (error) {
  fail((error as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.scope === undefined) fail("--scope is required");
const minTtl = args["min-ttl"] === undefined ? undefined : Number(args["min-ttl"]);
if (minTtl !== undefined && !Number.isInteger(minTtl)) fail("--min-ttl: expected whole seconds");
if (args.exchange !== undefined && args.exchange !== "altinn") fail('--exchange: expected "altinn"');
const consentId = args["consent-id"];
const consentFrom = args["consent-from"];
if ((consentId === undefined) !== (consentFrom === undefined))
  fail("--consent-id and --consent-from go together");

const local = args.url === undefined;
const endpoint = args.url ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
if (local) {
  const path = `${process.env.LOCAL_DIR ?? ".local"}/credentials.json`;
  const stored = await loadCredentials(path).catch(() =>
    fail(`no local credentials at ${path}: run npm start first`),
  );
  credentials = stored[0];
}
const client = createTokenClient({
  endpoint,
  region: args.region ?? process.env.AWS_REGION ?? DEFAULT_REGION,
  credentials,
});
try {
  const token = await client.getToken({
    scope: args.scope,
    consumer_org: args["consumer-org"],
    systemuser_org: args["systemuser-org"],
    systemuser_external_ref: args["external-ref"],
    consent:
      consentId === undefined || consentFrom === undefined ? undefined : { id: consentId, from: consentFrom },
    onbehalfof: args.onbehalfof,
    resource: args.resource,
    exchange: args.exchange === undefined ? undefined : "altinn",
    min_ttl: minTtl,
    client: args.client,
  });
  console.log(args.raw ? token.access_token : JSON.stringify(token, null, 2));
} catch (error) {
  if (error instanceof TokenBrokerError) {
    // Status 0: no answer came (credentials, network); only an HTTP answer has a status worth printing.
    console.error(`${error.status === 0 ? "" : `${error.status} `}${error.code}: ${error.detail}`);
    process.exit(1);
  }
  throw error;
}
