// The shell commands of a Markdown guide's sh code blocks, split into argument lists as a POSIX shell would.

/** One simple command: its words, quotes removed, `$NAME` expanded where the guide assigned a literal value. */
export interface GuideCommand {
  argv: string[];
  /** The line as written (continuations joined), for messages. */
  line: string;
}

const BLOCK = /^```(?:sh|bash|shell)\n([\s\S]*?)^```$/gm;
const OPERATORS = new Set(["|", "||", "&&", ";"]);

/** Every simple command in the ```sh blocks of `markdown`, those inside `$(...)` included, in order. */
export function guideCommands(markdown: string): GuideCommand[] {
  const variables = new Map<string, string>();
  const commands: GuideCommand[] = [];
  for (const [, block = ""] of markdown.matchAll(BLOCK)) {
    for (const line of block.replace(/\\\n\s*/g, "").split("\n")) {
      for (const words of simpleCommands(line, commands, variables)) {
        commands.push({ argv: words, line: line.trim() });
      }
    }
  }
  return commands;
}

/** The simple commands of one line; assignments go to `variables`, `$(...)` commands to `found` first. */
function simpleCommands(line: string, found: GuideCommand[], variables: Map<string, string>): string[][] {
  const result: string[][] = [];
  let current: string[] = [];
  const end = () => {
    if (current[0] === "export") current.shift();
    const assignments = current.findIndex((word) => !/^[A-Z_][A-Z0-9_]*=/.test(word));
    for (const word of assignments < 0 ? current : current.slice(0, assignments)) {
      const [name = "", ...value] = word.split("=");
      variables.set(name, value.join("="));
    }
    if (assignments >= 0) result.push(current.slice(assignments));
    current = [];
  };
  for (const token of tokens(line, found, variables)) {
    if (token.operator) end();
    else current.push(token.word);
  }
  end();
  return result;
}

interface Token {
  word: string;
  operator: boolean;
}

/** Shell words and operators of `line`: quotes, `$NAME`, `${NAME}` and `$(...)` (checked, then left as a value). */
function tokens(line: string, found: GuideCommand[], variables: Map<string, string>): Token[] {
  const out: Token[] = [];
  let word: string | undefined;
  let i = 0;
  const push = (text: string) => {
    word = (word ?? "") + text;
  };
  const flush = () => {
    if (word !== undefined) out.push({ word, operator: false });
    word = undefined;
  };
  const expand = (): string => {
    if (line.startsWith("$(", i)) {
      const close = matchingParen(line, i + 1);
      const inner = line.slice(i + 2, close);
      for (const argv of simpleCommands(inner, found, variables)) found.push({ argv, line: inner.trim() });
      i = close + 1;
      return "<output>";
    }
    const name = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/.exec(line.slice(i));
    if (name === null) {
      i += 1;
      return "$";
    }
    i += name[0].length;
    return variables.get(name[1] ?? "") ?? `<${name[1]}>`;
  };
  while (i < line.length) {
    const c = line[i] ?? "";
    if (word === undefined && c === "#") break;
    if (c === " " || c === "\t") {
      flush();
      i += 1;
    } else if (OPERATORS.has(line.slice(i, i + 2)) || OPERATORS.has(c)) {
      flush();
      const op = OPERATORS.has(line.slice(i, i + 2)) ? 2 : 1;
      out.push({ word: line.slice(i, i + op), operator: true });
      i += op;
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unterminated ' in: ${line}`);
      push(line.slice(i + 1, close));
      i = close + 1;
    } else if (c === '"') {
      i += 1;
      push("");
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "$") push(expand());
        else {
          push(line[i] === "\\" ? (line[i + 1] ?? "") : (line[i] ?? ""));
          i += line[i] === "\\" ? 2 : 1;
        }
      }
      if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
      i += 1;
    } else if (c === "$") {
      push(expand());
    } else {
      push(c);
      i += 1;
    }
  }
  flush();
  return out;
}

function matchingParen(line: string, open: number): number {
  let depth = 0;
  for (let i = open; i < line.length; i += 1) {
    if (line[i] === "(") depth += 1;
    if (line[i] === ")") depth -= 1;
    if (depth === 0) return i;
  }
  throw new Error(`unterminated $( in: ${line}`);
}
