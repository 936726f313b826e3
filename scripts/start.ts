// `npm start`: runs the broker locally (see dev/start.ts) and prints how to call it.
import { DEFAULT_REGION, EXAMPLE_SCOPES, shellQuote, startLocalBroker } from "../dev/start.ts";

const DEFAULT_PORT = 3000;
const port = Number(process.env.PORT ?? DEFAULT_PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT: expected a port number from 0 to 65535, got "${process.env.PORT}"`);
  process.exit(1);
}

try {
  const broker = await startLocalBroker({
    host: process.env.HOST ?? "127.0.0.1",
    port,
    dir: process.env.LOCAL_DIR ?? ".local",
  });
  const { credentials, settings } = broker;
  // What the CLIs need to find this broker when it is not where they look by default, as shell assignments.
  const listening = Number(new URL(broker.url).port);
  const where = [
    ...(listening === DEFAULT_PORT ? [] : [`PORT=${listening}`]),
    ...(process.env.LOCAL_DIR === undefined ? [] : [`LOCAL_DIR=${shellQuote(process.env.LOCAL_DIR)}`]),
    ...(broker.region === DEFAULT_REGION ? [] : [`AWS_REGION=${shellQuote(broker.region)}`]),
  ].map((assignment) => `${assignment} `);
  const first = credentials.credentials[0];
  const readKey = `node -e ${shellQuote(
    `const c=JSON.parse(require("fs").readFileSync(${JSON.stringify(credentials.path)},"utf8")).credentials[0];process.stdout.write(c.accessKeyId+":"+c.secretAccessKey)`,
  )}`;
  const lines = [
    "",
    `maskinporten-broker is running on ${broker.url}  (Ctrl-C stops it)`,
    `  Maskinporten: ${settings.emulator ? `built-in emulator at ${settings.tokenUrl}` : settings.tokenUrl}`,
    `  signing key:  ${settings.signingKey}`,
    ...(settings.clients.length > 1 ? [`  clients:      ${settings.clients.join(", ")}`] : []),
    `  policy:       ${settings.policy}`,
    `  credentials:  ${credentials.path} (mode 0600)`,
  ];
  if (credentials.created && first !== undefined) {
    lines.push(
      "",
      "  New local credentials (shown this once; they stay in the file above):",
      `    principal          ${first.principalArn}`,
      `    access key id      ${first.accessKeyId}`,
      `    secret access key  ${first.secretAccessKey}`,
    );
  }
  // With several clients a request names its client: the first one here.
  const [client] = settings.clients.length > 1 ? settings.clients : [];
  const body = JSON.stringify({ scope: EXAMPLE_SCOPES[0], client });
  lines.push(
    "",
    "Get a token:",
    `  curl -sS --aws-sigv4 "aws:amz:${broker.region}:execute-api" --user "$(${readKey})" \\`,
    `    -H 'Content-Type: application/json' -d '${body}' ${broker.url}/token`,
    "",
    `Or: ${where.join("")}npm run token -- --scope ${EXAMPLE_SCOPES[0]}${client === undefined ? "" : ` --client ${client}`}`,
    "",
  );
  if (settings.keysEnvFile !== undefined) {
    lines.push(
      `The registered key on the emulator's self-service API (status, renew, rotate, retire), with the variables npm start used:`,
      `  (set -a; . ${shellQuote(settings.keysEnvFile)}; npm run --silent keys -- status${client === undefined ? "" : ` --client ${client}`})`,
      "",
    );
  }
  console.log(lines.join("\n"));
  if (broker.region !== DEFAULT_REGION) console.log(`(region ${broker.region} from AWS_REGION)`);
  const stop = () => {
    broker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
