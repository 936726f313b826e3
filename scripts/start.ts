// `npm start`: runs the broker locally (see dev/start.ts) and prints how to call it.
import { DEFAULT_REGION, EXAMPLE_SCOPES, startLocalBroker } from "../dev/start.ts";

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const port = Number(process.env.PORT ?? 3000);
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
  const first = credentials.credentials[0];
  const readKey = `node -e ${shellQuote(
    `const c=JSON.parse(require("fs").readFileSync(${JSON.stringify(credentials.path)},"utf8")).credentials[0];process.stdout.write(c.accessKeyId+":"+c.secretAccessKey)`,
  )}`;
  const lines = [
    "",
    `maskinporten-broker is running on ${broker.url}  (Ctrl-C stops it)`,
    `  Maskinporten: ${settings.emulator ? `built-in emulator at ${settings.tokenUrl}` : settings.tokenUrl}`,
    `  signing key:  ${settings.signingKey}`,
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
  lines.push(
    "",
    "Get a token:",
    `  curl -sS --aws-sigv4 "aws:amz:${broker.region}:execute-api" --user "$(${readKey})" \\`,
    `    -H 'Content-Type: application/json' -d '{"scope":"${EXAMPLE_SCOPES[0]}"}' ${broker.url}/token`,
    "",
    `Or: npm run token -- --scope ${EXAMPLE_SCOPES[0]}`,
    "",
  );
  if (settings.keysEnv !== undefined) {
    const assignments = Object.entries(settings.keysEnv).map(
      ([name, value]) => `${name}=${shellQuote(value)}`,
    );
    lines.push(
      "The registered key on the emulator's self-service API (status, renew, rotate, retire):",
      `  ${assignments.join(" ")} npm run --silent keys -- status`,
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
