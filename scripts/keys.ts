// `npm run keys -- status|renew|rotate|retire`: the registered keys' lifecycle (scripts/cli/keys.ts), exit 0/1/2.
import { keysCommand } from "./cli/keys.ts";

process.exitCode = await keysCommand(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
