// The Maskinporten clients the broker signs for: CLIENTS / CLIENTS_FILE (several) or the single-client variables ("default").
import * as z from "zod/mini";
import { ConfigError } from "./config-error.ts";
import { type DocumentSource, documentText } from "./document-source.ts";
import {
  KID_PATTERN,
  parseSigningKeyRef,
  SIGNING_ALGS,
  type SigningAlg,
  type SigningKeyRef,
} from "./signing.ts";

/** A client's short name as requests and policy rules write it. */
export const CLIENT_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** The name of the one client the single-client variables define. */
export const DEFAULT_CLIENT_NAME = "default";

export interface SigningConfig {
  key: SigningKeyRef;
  kid?: string;
  alg: SigningAlg;
}

export interface ClientConfig {
  /** What requests (`client`) and policy rules (`clients`) call it. */
  name: string;
  /** Maskinporten's client id: the grant's `iss`. */
  clientId: string;
  signing: SigningConfig;
}

/** The variables of the single-client form, in the order messages name them. */
export const SINGLE_CLIENT_VARIABLES = [
  "MASKINPORTEN_CLIENT_ID",
  "SIGNING_KEY",
  "SIGNING_KID",
  "SIGNING_ALG",
] as const;

const CLIENT_ID_RULE = "expected the Maskinporten client id";
const SIGNING_KEY_RULE = "expected kms:<key>, secretsmanager:<secret> or file:<path>";

// Built on first use (z.lazy): only the CLIENTS / CLIENTS_FILE form reads them.
const ClientSchema = z.lazy(() =>
  z.strictObject(
    {
      name: z
        .string({ error: "expected a name of letters, digits, '-' or '_'" })
        .check(z.regex(CLIENT_NAME_PATTERN, "expected a name of 1 to 64 letters, digits, '-' or '_'")),
      client_id: z.string({ error: CLIENT_ID_RULE }).check(z.trim(), z.minLength(1, CLIENT_ID_RULE)),
      signing_key: z.pipe(
        z.string({ error: SIGNING_KEY_RULE }),
        z.transform((s: string, ctx) => {
          try {
            return parseSigningKeyRef(s.trim());
          } catch (error) {
            ctx.issues.push({ code: "custom", message: (error as Error).message, input: s });
            return z.NEVER;
          }
        }),
      ),
      kid: z.optional(
        z
          .string({ error: "expected a string" })
          .check(z.regex(KID_PATTERN, "expected letters, digits, '.', '_' or '-' (at most 200)")),
      ),
      alg: z._default(z.enum(SIGNING_ALGS, { error: "expected RS256, RS384 or RS512" }), "RS256"),
    },
    // Unknown fields are named by parseClients from the issue's keys.
    { error: (issue) => (issue.code === "unrecognized_keys" ? undefined : "expected a client object") },
  ),
);

const DocumentSchema = z.lazy(() =>
  z.strictObject(
    {
      clients: z
        .array(z.unknown(), { error: "expected an array of clients" })
        .check(z.minLength(1, "expected at least one client")),
    },
    { error: () => 'expected {"clients": [{"name", "client_id", "signing_key", "kid"?, "alg"?}, ...]}' },
  ),
);

/** `clients[1] (name vat).signing_key` */
function where(index: number, raw: unknown, path: readonly PropertyKey[]): string {
  const name = (raw as { name?: unknown } | null)?.name;
  const named = typeof name === "string" && CLIENT_NAME_PATTERN.test(name) ? ` (name ${name})` : "";
  return `clients[${index}]${named}${path.map((p) => `.${String(p)}`).join("")}`;
}

/** Parses a clients document; returns the clients, or every problem found, each naming the client and field. */
export function parseClients(text: string): { clients: ClientConfig[] } | { errors: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { errors: [`not valid JSON (${(error as Error).message})`] };
  }
  const document = DocumentSchema.safeParse(json);
  if (!document.success) {
    const issue = document.error.issues[0];
    const path = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    return { errors: [`${path}${issue?.message ?? "invalid"}`] };
  }
  const errors: string[] = [];
  const clients: ClientConfig[] = [];
  const seen = new Map<string, number>();
  document.data.clients.forEach((raw, index) => {
    const parsed = ClientSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const message =
          issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message;
        errors.push(`${where(index, raw, issue.path)}: ${message}`);
      }
      return;
    }
    const { name, client_id, signing_key, kid, alg } = parsed.data;
    const first = seen.get(name);
    if (first !== undefined) {
      errors.push(`${where(index, raw, ["name"])}: the name "${name}" is already used by clients[${first}]`);
      return;
    }
    seen.set(name, index);
    clients.push({
      name,
      clientId: client_id,
      signing: { key: signing_key, alg, ...(kid === undefined ? {} : { kid }) },
    });
  });
  return errors.length > 0 ? { errors } : { clients };
}

/** Where the clients document comes from, as the environment says. */
export type ClientsSource = DocumentSource;

/** Reads and parses CLIENTS / CLIENTS_FILE; the problems come back prefixed with the variable. */
export function readClients(source: ClientsSource): { clients: ClientConfig[] } | { errors: string[] } {
  const origin = source.kind === "file" ? `CLIENTS_FILE ${source.path}` : "CLIENTS";
  const document = documentText(source, origin);
  if ("error" in document) return { errors: [document.error] };
  const result = parseClients(document.text);
  return "errors" in result ? { errors: result.errors.map((e) => `${origin}: ${e}`) } : result;
}

const isSet = (value: string | undefined): boolean => value !== undefined && value.trim() !== "";

/**
 * Which form the environment uses: CLIENTS or CLIENTS_FILE (a source to read), or the single-client variables.
 * Both forms at once, or neither complete, are errors naming the variables.
 */
export function clientForm(env: Readonly<Record<string, string | undefined>>): {
  source?: ClientsSource;
  errors: string[];
} {
  const inline = env.CLIENTS;
  const file = env.CLIENTS_FILE;
  const single = SINGLE_CLIENT_VARIABLES.filter((name) => isSet(env[name]));
  if (isSet(inline) && isSet(file)) {
    return { errors: ["CLIENTS / CLIENTS_FILE: set one of them, not both"] };
  }
  if (isSet(inline) || isSet(file)) {
    const variable = isSet(inline) ? "CLIENTS" : "CLIENTS_FILE";
    if (single.length > 0) {
      return {
        errors: [
          `${variable} / ${single.join(", ")}: set the clients either in ${variable} or in MASKINPORTEN_CLIENT_ID and SIGNING_KEY (one client), not both`,
        ],
      };
    }
    return {
      source: isSet(inline)
        ? { kind: "inline", json: inline?.trim() ?? "" }
        : { kind: "file", path: file?.trim() ?? "" },
      errors: [],
    };
  }
  const errors: string[] = [];
  if (!isSet(env.MASKINPORTEN_CLIENT_ID)) {
    errors.push(
      "MASKINPORTEN_CLIENT_ID: expected the Maskinporten client id (or CLIENTS / CLIENTS_FILE for several clients)",
    );
  }
  if (!isSet(env.SIGNING_KEY)) {
    errors.push("SIGNING_KEY: expected kms:<key>, secretsmanager:<secret> or file:<path>");
  }
  return { errors };
}

/** The one client of the single-client variables, named "default" (call after clientForm found no error). */
export function singleClient(variables: {
  MASKINPORTEN_CLIENT_ID?: string | undefined;
  SIGNING_KEY?: SigningKeyRef | undefined;
  SIGNING_KID?: string | undefined;
  SIGNING_ALG?: SigningAlg | undefined;
}): ClientConfig {
  const {
    MASKINPORTEN_CLIENT_ID: clientId,
    SIGNING_KEY: key,
    SIGNING_KID: kid,
    SIGNING_ALG: alg,
  } = variables;
  if (clientId === undefined || key === undefined) {
    throw new ConfigError("MASKINPORTEN_CLIENT_ID / SIGNING_KEY: expected both for the single-client form");
  }
  return {
    name: DEFAULT_CLIENT_NAME,
    clientId,
    signing: { key, alg: alg ?? "RS256", ...(kid === undefined ? {} : { kid }) },
  };
}
