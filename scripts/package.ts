// `npm run package [-- sls options]`: builds .serverless/ (template + zips) with no AWS account and no
// network, then prints the bundle size. Extra arguments go to `sls package` (--stage, --param, --package).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { printBundleSize } from "./bundle-size.ts";

const args = process.argv.slice(2);
const sls = createRequire(import.meta.url).resolve("osls/bin/serverless.js");
const result = spawnSync(process.execPath, [sls, "package", ...args], {
  stdio: "inherit",
  env: {
    ...process.env,
    // osls 4 has no telemetry; these keep it quiet should a future version add it back.
    SLS_TELEMETRY_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
  },
});
if (result.status !== 0) process.exit(result.status ?? 1);
const packageFlag = args.findIndex((arg) => arg === "--package" || arg === "-p");
printBundleSize(packageFlag >= 0 ? (args[packageFlag + 1] ?? ".serverless") : ".serverless");
