// Habits a successor relies on: `npm run test:unit` leaves out exactly the Python suites, CI installs the pinned
// Python tools, and the changelog names the package's version.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { NEEDS_PYTHON, PYTHON_SUITES } from "../setup/suites.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const text = (path: string) => readFileSync(join(ROOT, path), "utf8");
const testFiles = readdirSync(join(ROOT, "test"), { recursive: true, encoding: "utf8" })
  .filter((name) => name.endsWith(".test.ts") && !name.startsWith("bench/"))
  .map((name) => join("test", name))
  .sort();

describe("the Python suites", () => {
  it("are the test files that reach moto, deploy into it, or run a Python tool", () => {
    const needPython = testFiles.filter((path) => NEEDS_PYTHON.test(text(path)));
    expect(needPython.length).toBeGreaterThan(5);
    expect(needPython).toEqual([...PYTHON_SUITES].sort());
  });

  it("run on tools CI installs at pinned versions", () => {
    const pins = text("requirements-test.txt")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"));
    expect(pins.map((line) => line.split("==")[0])).toEqual([
      "moto[server]",
      "cfn-lint",
      "botocore",
      "awscli",
    ]);
    for (const pin of pins) expect(pin).toMatch(/==\d+(\.\d+)+$/);
    expect(text(".ci/run")).toContain(
      "pip install --quiet --disable-pip-version-check -r requirements-test.txt",
    );
  });
});

describe("the changelog", () => {
  it("has a section for the package's version and one for what is not released yet", () => {
    const { version } = JSON.parse(text("package.json")) as { version: string };
    const headings = [...text("CHANGELOG.md").matchAll(/^## (.+)$/gm)].map((match) => match[1]);
    expect(headings).toContain(version);
    expect(headings[0]).toBe("Unreleased");
  });
});
