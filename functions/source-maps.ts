// Source-mapped stack traces for the bundled functions without --enable-source-maps: the map is read on the first
// stack trace that needs it, not at import (Node's flag parses the whole map while the bundle loads).
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";

/** The bundle this module was built into, and its map beside it (`sourcemap: true` in serverless.yml). */
const bundleUrl = import.meta.url;
// import.meta.filename, not node:url's fileURLToPath: one module fewer to load at every cold start.
const bundlePath = import.meta.filename ?? bundleUrl;
const mapPath = `${bundlePath}.map`;
const mapUrl = new URL(`${bundleUrl}.map`);

let map: SourceMap | null | undefined;

/** The bundle's source map, read once; null when it cannot be read (then frames stay as they are). */
function bundleMap(): SourceMap | null {
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(mapPath, "utf8")));
    } catch {
      map = null;
    }
  }
  return map;
}

/** One `    at ...` line, with the bundle's positions replaced by the sources' (V8's layout otherwise). */
function frame(site: NodeJS.CallSite): string {
  const file = site.getFileName() ?? site.getScriptNameOrSourceURL();
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if ((file !== bundleUrl && file !== bundlePath) || line === null || column === null)
    return `    at ${site}`;
  const entry = bundleMap()?.findEntry(line - 1, column - 1);
  if (entry === undefined || !("originalSource" in entry)) return `    at ${site}`;
  // Sources are named relative to the map (esbuild: "../lib/config/index.ts"), as Node's own flag shows them.
  const source = new URL(entry.originalSource, mapUrl).href;
  const location = `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  const name = (entry as { name?: string }).name ?? site.getFunctionName();
  const prefix = site.isAsync() ? "async " : site.isConstructor() ? "new " : "";
  return name ? `    at ${prefix}${name} (${location})` : `    at ${prefix}${location}`;
}

function prepareStackTrace(error: Error, sites: NodeJS.CallSite[]): string {
  let head: string;
  try {
    head = String(error);
  } catch {
    head = "<error>";
  }
  return [head, ...sites.map(frame)].join("\n");
}

/** Installs the lazy mapping when this runs as a bundle with its map and Node's own source maps are off. */
export function installSourceMappedStacks(): boolean {
  if (process.sourceMapsEnabled || !existsSync(mapPath)) return false;
  Error.prepareStackTrace = prepareStackTrace;
  return true;
}
