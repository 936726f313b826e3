import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_PROBLEM_TYPE_BASE } from "../../lib/config/index.ts";
import { PROBLEM_TABLE } from "../../lib/contract/problem-codes.ts";

/** The anchor GitHub gives a Markdown heading: lower case, punctuation but `-` and `_` dropped, spaces as `-`. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

describe("problem type URIs", () => {
  const api = readFileSync(new URL("../../docs/api.md", import.meta.url), "utf8");
  const anchors = new Set([...api.matchAll(/^#{1,6} (.+)$/gm)].map((match) => githubSlug(match[1] ?? "")));

  it("the default base is docs/api.md, one fragment per code", () => {
    expect(DEFAULT_PROBLEM_TYPE_BASE).toMatch(/\/blob\/main\/docs\/api\.md#$/);
  });

  it.each(Object.keys(PROBLEM_TABLE))("docs/api.md has a heading that %s's type opens", (code) => {
    expect(anchors).toContain(code);
    const heading = new RegExp(
      `^#### ${code}\\n\\n${PROBLEM_TABLE[code as keyof typeof PROBLEM_TABLE].status}\\. `,
      "m",
    );
    expect(api).toMatch(heading);
  });
});
