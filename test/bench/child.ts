// Runs one benchmark scenario in its own process (own heap, own JIT, stdout kept for audit logs) and sends its figures.
import type { Figure } from "./figures.ts";

const name = process.argv[2] ?? "";
const scenario = (await import(`./scenarios/${name}.ts`)) as { default: () => Promise<Figure[]> };
const figures = await scenario.default();
process.send?.({ figures }, () => process.exit(0));
