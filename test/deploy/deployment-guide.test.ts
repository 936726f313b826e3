// docs/deployment.md cites no command that does not exist: AWS CLI calls are in botocore, the offline ones run here.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { checkAwsCommands } from "./aws-cli-check.ts";
import { type GuideCommand, guideCommands } from "./guide-commands.ts";
import { packageService, REPO_ROOT } from "./package-service.ts";

const commands = guideCommands(readFileSync(join(REPO_ROOT, "docs", "deployment.md"), "utf8"));
const flagsOf = (argv: string[]) =>
  argv.filter((a) => a.startsWith("--")).map((a) => a.slice(2).split("=")[0] ?? "");
/** The words after npm's `--`: what the script itself is given. */
const scriptArgs = (argv: string[]) => (argv.includes("--") ? argv.slice(argv.indexOf("--") + 1) : []);
const program = (name: string) => commands.filter((command) => command.argv[0] === name);
const isPackage = (c: GuideCommand) => c.argv[0] === "npm" && c.argv[1] === "run" && c.argv[2] === "package";
/** `npm run <script>` or `npm start`, as [script, its arguments]. */
const npmScript = ({ argv }: GuideCommand): [string, string[]] | undefined => {
  if (argv[0] !== "npm" || argv[1] === undefined) return undefined;
  if (argv[1] === "start") return ["start", []];
  return argv[1] === "run" && argv[2] !== undefined ? [argv[2], scriptArgs(argv)] : undefined;
};
const isNpmScript = (c: GuideCommand) => npmScript(c) !== undefined && !isPackage(c);
const isSls = (c: GuideCommand) => c.argv[0] === "npx" && c.argv[1] === "sls";
const isCfnLint = (c: GuideCommand) => c.argv[0] === "cfn-lint";
const KINDS = [
  (c: GuideCommand) => c.argv[0] === "aws",
  isPackage,
  isNpmScript,
  isSls,
  isCfnLint,
  (c: GuideCommand) => c.argv[0] === "curl",
  (c: GuideCommand) => c.argv[0] === "cp",
];

describe("docs/deployment.md's commands", () => {
  it("are all of a kind this check verifies", () => {
    expect(commands.length).toBeGreaterThan(20);
    const unknown = commands.filter((command) => !KINDS.some((kind) => kind(command)));
    expect(unknown.map((command) => command.line)).toEqual([]);
    for (const kind of KINDS) expect(commands.some(kind), String(kind)).toBe(true);
  });

  it("call AWS only with services, operations and options the installed botocore (or CLI) has", () => {
    const aws = program("aws");
    const problems = checkAwsCommands(aws.map((command) => command.argv.slice(1)));
    expect(
      problems.flatMap((problem, i) => (problem === null ? [] : [`${problem}: ${aws[i]?.line}`])),
    ).toEqual([]);
  });

  it("would catch an operation or an option that does not exist", () => {
    expect(
      checkAwsCommands([
        ["ec2", "create-vpc-endpoints", "--vpc-id", "vpc-1"],
        ["ec2", "create-vpc-endpoint", "--private-dns", "--vpc-id", "vpc-1"],
        ["cloudformation", "deploy", "--stack", "x"],
        ["apigatewayv3", "get-rest-apis"],
      ]).map((problem) => problem !== null),
    ).toEqual([true, true, true, true]);
  });

  it("override only parameters their template declares, and every one it requires", () => {
    const deploys = commands.filter((c) => c.argv[1] === "cloudformation" && c.argv[2] === "deploy");
    expect(deploys.length).toBeGreaterThan(3);
    for (const { argv, line } of deploys) {
      const template = readFileSync(join(REPO_ROOT, argv[argv.indexOf("--template-file") + 1] ?? ""), "utf8");
      const section = template.slice(template.indexOf("\nParameters:\n"), template.indexOf("\nResources:\n"));
      const declared = [...section.matchAll(/^ {2}(\w+):\n((?: {4}.*\n)+)/gm)];
      const start = argv.indexOf("--parameter-overrides");
      const given =
        start < 0
          ? []
          : argv.slice(start + 1, argv.findIndex((a, i) => i > start && a.startsWith("--")) >>> 0);
      const names = given.map((pair) => pair.split("=")[0]);
      expect(
        names.filter((name) => !declared.some(([, declaredName]) => declaredName === name)),
        line,
      ).toEqual([]);
      const required = declared
        .filter(([, , body]) => !/^ {4}Default:/m.test(body ?? ""))
        .map(([, name]) => name);
      expect(
        required.filter((name) => !names.includes(name)),
        line,
      ).toEqual([]);
    }
  });

  it("run cfn-lint clean here, the prerequisites template among them", async () => {
    const lint = commands.filter(isCfnLint);
    expect(lint.some((command) => command.argv.includes("infra/prerequisites.yml"))).toBe(true);
    for (const command of lint) {
      const run = promisify(execFile)("cfn-lint", command.argv.slice(1), { cwd: REPO_ROOT });
      await expect(
        run.then((result) => result.stdout),
        command.line,
      ).resolves.toBe("");
    }
  }, 60_000);

  it("package here with no AWS account, as written", async () => {
    const packaging = commands.filter(isPackage);
    expect(packaging.length).toBeGreaterThan(0);
    for (const command of packaging) {
      const service = await packageService({}, scriptArgs(command.argv));
      try {
        expect(readdirSync(service.output)).toContain("token.zip");
      } finally {
        service.remove();
      }
    }
  }, 240_000);

  it("run npm scripts that exist, with options the script declares", () => {
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: object })
      .scripts;
    const sources = readdirSync(join(REPO_ROOT, "scripts"), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts"))
      .map((file) => readFileSync(join(REPO_ROOT, "scripts", file), "utf8"))
      .join("\n");
    for (const command of commands.filter(isNpmScript)) {
      const [script, args] = npmScript(command) ?? ["", []];
      expect(Object.keys(scripts), command.line).toContain(script);
      for (const flag of flagsOf(args)) {
        expect(sources, `${command.line}: --${flag}`).toMatch(new RegExp(`^\\s+"?${flag}"?: \\{ type:`, "m"));
      }
    }
  });

  it("run osls commands with options osls has", () => {
    const schema = createRequire(import.meta.url)(
      join(REPO_ROOT, "node_modules/osls/lib/cli/commands-schema/aws-service.js"),
    ) as Map<string, { options?: object }>;
    for (const command of commands.filter(isSls)) {
      const words = command.argv.slice(2).filter((word) => !word.startsWith("-"));
      const name = schema.has(words.slice(0, 2).join(" ")) ? words.slice(0, 2).join(" ") : (words[0] ?? "");
      expect([...schema.keys()], command.line).toContain(name);
      for (const flag of flagsOf(command.argv)) {
        expect(Object.keys(schema.get(name)?.options ?? {}), command.line).toContain(flag);
      }
    }
  });

  it("run curl with options this curl has, and copy files the repository has", () => {
    const help = execFileSync("curl", ["--help", "all"], { encoding: "utf8" });
    for (const command of program("curl")) {
      for (const flag of flagsOf(command.argv)) expect(help, command.line).toContain(` --${flag} `);
    }
    for (const command of program("cp")) {
      expect(existsSync(join(REPO_ROOT, command.argv[1] ?? "")), command.line).toBe(true);
    }
  });
});
