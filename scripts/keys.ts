// `npm run keys -- status|renew|rotate|retire`: the registered keys' lifecycle (lib/keys/command.ts), exit 0/1/2.
import { keysCommand } from "../lib/keys/command.ts";

process.exitCode = await keysCommand(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
