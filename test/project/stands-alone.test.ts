// The project stands alone: a short README that links into docs/, and no file pointing at a document outside it.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const REFERENCE_DOCS = [
  "api.md",
  "deployment.md",
  "key-custody.md",
  "local.md",
  "callers.md",
  "operations.md",
  "performance.md",
  "decisions.md",
];
/** Names of the documents the project was built from; none of them ships with it. Built so this file does not match. */
const OUTSIDE = [["CONTRACT", ".md"].join(""), ["CONTRACT", "section"].join(" "), ["..", "shared"].join("/")];

let tracked: string[] = [];

beforeAll(async () => {
  const { stdout } = await run("git", ["ls-files", "-z"], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  tracked = stdout.split("\0").filter((path) => path !== "" && existsSync(join(ROOT, path)));
});

const text = (path: string) => readFileSync(join(ROOT, path), "utf8");

describe("the project stands alone", () => {
  it("has a README of at most 250 lines", () => {
    expect(text("README.md").split("\n").length).toBeLessThanOrEqual(250);
  });

  it("keeps the reference in docs/ and links every document from the README", () => {
    const readme = text("README.md");
    for (const doc of REFERENCE_DOCS) {
      expect(existsSync(join(ROOT, "docs", doc)), doc).toBe(true);
      expect(readme).toContain(`(docs/${doc})`);
    }
  });

  it("has no relative Markdown link to a file that does not exist", () => {
    const broken: string[] = [];
    for (const path of tracked.filter((p) => p.endsWith(".md"))) {
      for (const [, target] of text(path).matchAll(/\]\(([^)\s#]+)(?:#[^)\s]*)?\)/g)) {
        if (target === undefined || /^[a-z]+:/.test(target)) continue;
        if (!existsSync(resolve(ROOT, dirname(path), target))) broken.push(`${path} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("mentions no document outside the project in any tracked file", () => {
    expect(tracked.length).toBeGreaterThan(50);
    const hits = tracked.flatMap((path) => {
      const content = readFileSync(join(ROOT, path), "latin1");
      return OUTSIDE.filter((needle) => content.includes(needle)).map((needle) => `${path}: ${needle}`);
    });
    expect(hits).toEqual([]);
  });
});
