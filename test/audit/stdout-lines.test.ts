import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const AUDIT_LINE = join(import.meta.dirname, "../../lib/audit/audit-line.ts");
const LINES = 300;
/** Line i, about 1 KB like an audit line with its EMF document; the child writes the same (LINE_SOURCE). */
const LINE_SOURCE = '(i) => JSON.stringify({ i, pad: "x".repeat(1000) }) + "\\n"';
const line = (i: number) => `${JSON.stringify({ i, pad: "x".repeat(1000) })}\n`;

/** A child that writes LINES audit-sized lines through stdoutLines, then says on stderr how many bytes it queued. */
const CHILD = `
import { stdoutLines } from ${JSON.stringify(AUDIT_LINE)};
const line = ${LINE_SOURCE};
if (process.env.BUILD_STDOUT === "1") process.stdout; // a pipe's stream makes fd 1 non-blocking
for (let i = 0; i < ${LINES}; i++) stdoutLines.write(line(i));
process.stderr.write("written " + (process.env.BUILD_STDOUT === "1" ? process.stdout.writableLength : 0) + "\\n");
`;

/** Runs the child with stdout a pipe the parent does not read until the child has written everything. */
async function linesOfAChild(buildStdout: boolean): Promise<{ lines: string[]; queued: number }> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD], {
    env: { PATH: process.env.PATH ?? "", BUILD_STDOUT: buildStdout ? "1" : "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const written = new Promise<number>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /written (\d+)\n/.exec(stderr);
      if (match !== null) resolve(Number(match[1]));
    });
    child.on("exit", () => reject(new Error(`the child exited before writing everything: ${stderr}`)));
  });
  const chunks: Buffer[] = [];
  // Blocking fd 1: the writes wait for the reader, so read from the start; non-blocking: only once all is written.
  if (!buildStdout) child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  const queued = await written;
  if (buildStdout) child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  if (!child.stdout.readableEnded) await once(child.stdout, "end");
  expect(code, stderr).toBe(0);
  return { lines: Buffer.concat(chunks).toString("utf8").split("\n").slice(0, -1), queued };
}

describe("audit lines on stdout", () => {
  it("written to fd 1 as they are: every line whole and in order", async () => {
    const { lines } = await linesOfAChild(false);
    expect(lines).toEqual(Array.from({ length: LINES }, (_, i) => line(i).slice(0, -1)));
  });

  it("a full non-blocking pipe sends the rest through process.stdout: nothing lost, cut or out of order", async () => {
    const { lines, queued } = await linesOfAChild(true);
    // The pipe filled (the parent read nothing yet): process.stdout queued what fd 1 refused.
    expect(queued).toBeGreaterThan(0);
    expect(lines).toEqual(Array.from({ length: LINES }, (_, i) => line(i).slice(0, -1)));
  });
});
