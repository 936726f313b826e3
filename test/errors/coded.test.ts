import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/config-error.ts";
import { invalidConfiguration } from "../../lib/config/index.ts";
import { CodedError } from "../../lib/errors/coded.ts";
import { KeySetRefusal, KeyWatchFailed, SelfServiceError } from "../../lib/keys/errors.ts";
import { PolicyError } from "../../lib/policy/schema.ts";
import { AccessDenied, InvalidRequest, Problem, SigningUnavailable } from "../../lib/problem/index.ts";

describe("the coded error base", () => {
  it("is what a Problem extends, each carrying its problem code", () => {
    for (const [problem, code] of [
      [new InvalidRequest("scope: expected a string"), "invalid_request"],
      [new AccessDenied("no rule allows it"), "access_denied"],
      [new SigningUnavailable("the signing key is disabled"), "signing_unavailable"],
    ] as const) {
      expect(problem).toBeInstanceOf(Problem);
      expect(problem).toBeInstanceOf(CodedError);
      expect(problem.code).toBe(code);
    }
  });

  it("is what the key operations' errors extend, each carrying its code", () => {
    for (const [error, code] of [
      [new KeySetRefusal("retire the old key first"), "key_set_refused"],
      [new KeyWatchFailed("client a: unreadable"), "key_watch_failed"],
      [
        new SelfServiceError("admin_unavailable", "the self-service API answered 503", 503),
        "admin_unavailable",
      ],
    ] as const) {
      expect(error).toBeInstanceOf(CodedError);
      expect(error.code).toBe(code);
    }
  });

  it("is what ConfigError extends, with the code invalid_configuration, its name and its message", () => {
    const error = invalidConfiguration(["SIGNING_KEY: is required"]);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(CodedError);
    expect(error.code).toBe("invalid_configuration");
    expect(error.name).toBe("ConfigError");
    expect(error.message).toBe("Invalid configuration:\n  SIGNING_KEY: is required");
    expect(String(error)).toMatch(/^ConfigError: Invalid configuration/);
  });

  it("keeps a subclass's own name and the configuration code", () => {
    const error = new PolicyError("rule 1: principal is required");
    expect(error).toBeInstanceOf(CodedError);
    expect(error.name).toBe("PolicyError");
    expect(error.code).toBe("invalid_configuration");
  });

  it("names each error after its class and keeps the cause", () => {
    const cause = new Error("socket hang up");
    const problem = new SigningUnavailable("KMS is unreachable", { cause });
    expect(problem.name).toBe("SigningUnavailable");
    expect(problem.cause).toBe(cause);
    expect(new KeySetRefusal("no").name).toBe("KeySetRefusal");
  });

  it("keeps every error's name in a minified bundle, where class names are mangled", async () => {
    const root = resolve(import.meta.dirname, "../..");
    // Every module of lib/ that exports a class (each one an error; the abstract bases are left out below).
    const modules = readdirSync(join(root, "lib"), { recursive: true, encoding: "utf8" })
      .filter((path) => path.endsWith(".ts"))
      .map((path) => join("lib", path))
      .filter((path) =>
        /^export (abstract )?class \w+ extends /m.test(readFileSync(join(root, path), "utf8")),
      );
    const result = await build({
      stdin: {
        contents: modules.map((path) => `export * from "./${path}";`).join("\n"),
        resolveDir: root,
        loader: "ts",
      },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "node",
      target: "node24",
      write: false,
      logLevel: "silent",
    });
    const dir = mkdtempSync(join(tmpdir(), "coded-names-"));
    try {
      const file = join(dir, "errors.mjs");
      writeFileSync(file, result.outputFiles[0]?.text ?? "");
      const exported = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const abstract = new Set(["CodedError", "Problem", "KeyError"]);
      const errorClasses = Object.entries(exported).filter(
        (entry): entry is [string, new (detail: string) => Error] =>
          typeof entry[1] === "function" && entry[1].prototype instanceof Error && !abstract.has(entry[0]),
      );
      expect(errorClasses.map(([name]) => name)).toEqual(
        expect.arrayContaining([
          "InvalidRequest",
          "InternalError",
          "KeySetChanged",
          "PolicyError",
          "ConfigError",
          "BodyTooLarge",
          "LifetimeTooShort",
          "TokenBrokerError",
        ]),
      );
      const names = errorClasses.map(([name, ErrorClass]) => [name, new ErrorClass("x").name]);
      expect(names).toEqual(errorClasses.map(([name]) => [name, name]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
