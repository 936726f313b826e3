// esbuild plugins for the Lambda bundle (serverless-esbuild loads this file with require, hence CommonJS).
const path = require("node:path");

/**
 * zod ships error messages in ~50 languages (260 KiB minified) and re-exports them all as `z.locales`;
 * the broker answers in English only, so the bundle keeps `en` and drops the rest.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!args.importer.includes(`${path.sep}zod${path.sep}`)) return undefined;
      return { path: path.join(path.dirname(args.importer), "..", "locales"), namespace: "zod-english-only" };
    });
    build.onLoad({ filter: /.*/, namespace: "zod-english-only" }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: args.path,
      loader: "js",
    }));
  },
};

module.exports = [zodEnglishOnly];
