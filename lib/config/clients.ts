// The Maskinporten clients the broker signs for: CLIENTS / CLIENTS_FILE (several) or the single-client variables ("default").
import * as v from "valibot";
import { issuePath, strictDocument } from "../schema/index.ts";
import { CLIENT_NAME_PATTERN, DEFAULT_CLIENT_NAME, KID_PATTERN } from "../schema/names.ts";
import { type DocumentSource, documentText } from "./document-source.ts";
import { all, given, type Read } from "./problems.ts";
import { parseSigningKeyRef, SIGNING_ALGS, type SigningAlg, type SigningKeyRef } from "./signing.ts";
import { type Env, keyRef, kid, text, variables, word } from "./variables.ts";

export interface SigningConfig {
  key: SigningKeyRef;
  kid?: string | undefined;
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
const SINGLE_CLIENT_VARIABLES = [
  "MASKINPORTEN_CLIENT_ID",
  "SIGNING_KEY",
  "SIGNING_KID",
  "SIGNING_ALG",
] as const;

const CLIENT_ID_RULE = "expected the Maskinporten client id";
const SIGNING_KEY_RULE = "expected kms:<key>, secretsmanager:<secret> or file:<path>";

const clientEntries = {
  name: v.pipe(
    v.string("expected a name of letters, digits, '-' or '_'"),
    v.regex(CLIENT_NAME_PATTERN, "expected a name of 1 to 64 letters, digits, '-' or '_'"),
  ),
  client_id: v.pipe(v.string(CLIENT_ID_RULE), v.trim(), v.minLength(1, CLIENT_ID_RULE)),
  signing_key: v.pipe(
    v.string(SIGNING_KEY_RULE),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      try {
        return parseSigningKeyRef(dataset.value.trim());
      } catch (error) {
        addIssue({ message: (error as Error).message });
        return NEVER;
      }
    }),
  ),
  kid: v.optional(
    v.pipe(
      v.string("expected a string"),
      v.regex(KID_PATTERN, "expected letters, digits, '.', '_' or '-' (at most 200)"),
    ),
  ),
  alg: v.optional(v.picklist(SIGNING_ALGS, "expected RS256, RS384 or RS512"), "RS256"),
};
const DOCUMENT_SHAPE = 'expected {"clients": [{"name", "client_id", "signing_key", "kid"?, "alg"?}, ...]}';

/** The document's schemas, built when a document is read: the single-client form never builds them. */
const documentSchemas = () => ({
  document: strictDocument(
    {
      clients: v.pipe(
        v.array(v.unknown(), "expected an array of clients"),
        v.minLength(1, "expected at least one client"),
      ),
    },
    { notObject: DOCUMENT_SHAPE, unknown: () => DOCUMENT_SHAPE },
  ),
  client: strictDocument(clientEntries, { notObject: "expected a client object" }),
});

/** `clients[1] (name vat).signing_key` */
function where(index: number, raw: unknown, path: readonly (string | number)[]): string {
  const name = (raw as { name?: unknown } | null)?.name;
  const named = typeof name === "string" && CLIENT_NAME_PATTERN.test(name) ? ` (name ${name})` : "";
  return `clients[${index}]${named}${path.map((p) => `.${p}`).join("")}`;
}

/** Parses a clients document; returns the clients, or every problem found, each naming the client and field. */
function parseClients(text: string): { clients: ClientConfig[] } | { errors: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { errors: [`not valid JSON (${(error as Error).message})`] };
  }
  const schemas = documentSchemas();
  const document = v.safeParse(schemas.document, json);
  if (!document.success) {
    const issue = document.issues[0];
    const path = issuePath(issue).join(".");
    return { errors: [`${path === "" ? "" : `${path}: `}${issue.message}`] };
  }
  const errors: string[] = [];
  const clients: ClientConfig[] = [];
  const seen = new Map<string, number>();
  for (const [index, raw] of document.output.clients.entries()) {
    const parsed = v.safeParse(schemas.client, raw);
    if (!parsed.success) {
      for (const issue of parsed.issues)
        errors.push(`${where(index, raw, issuePath(issue))}: ${issue.message}`);
      continue;
    }
    const { name, client_id, signing_key, kid, alg } = parsed.output;
    const first = seen.get(name);
    if (first !== undefined) {
      errors.push(`${where(index, raw, ["name"])}: the name "${name}" is already used by clients[${first}]`);
      continue;
    }
    seen.set(name, index);
    clients.push({
      name,
      clientId: client_id,
      signing: { key: signing_key, kid, alg },
    });
  }
  return errors.length > 0 ? { errors } : { clients };
}

/** Reads and parses CLIENTS / CLIENTS_FILE; the problems come back prefixed with the variable. */
function clientsDocument(source: DocumentSource): Read<ClientConfig[]> {
  const origin = source.kind === "file" ? `CLIENTS_FILE ${source.path}` : "CLIENTS";
  const document = documentText(source, origin);
  if ("error" in document) return { errors: [document.error] };
  const result = parseClients(document.text);
  return "errors" in result
    ? { errors: result.errors.map((e) => `${origin}: ${e}`) }
    : { value: result.clients };
}

const isSet = (value: string | undefined): boolean => value !== undefined && value.trim() !== "";

/**
 * Which form the environment uses: CLIENTS or CLIENTS_FILE (a source to read), or the single-client variables.
 * Both forms at once, or neither complete, are errors naming the variables.
 */
function clientForm(env: Env): {
  source?: DocumentSource;
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

const singleClientVariables = variables({
  MASKINPORTEN_CLIENT_ID: text,
  SIGNING_KEY: keyRef("SIGNING_KEY"),
  SIGNING_KID: kid("SIGNING_KID"),
  SIGNING_ALG: word("SIGNING_ALG", SIGNING_ALGS, "RS256, RS384 or RS512", "RS256"),
});

/**
 * The clients of either form, or what is wrong with them: CLIENTS / CLIENTS_FILE is read whatever else is
 * wrong, so one start names every problem; the single-client form once its variables parsed.
 */
export function readClients(env: Env): Read<ClientConfig[]> {
  const single = singleClientVariables(env);
  const form = clientForm(env);
  const ofForm = (): Read<ClientConfig[]> => {
    if (form.errors.length > 0) return { errors: form.errors };
    if (form.source !== undefined) return clientsDocument(form.source);
    // clientForm found the client id and the key set: once they parsed, both are there.
    return given(single, (e) =>
      e.MASKINPORTEN_CLIENT_ID === undefined || e.SIGNING_KEY === undefined
        ? { errors: [] }
        : {
            value: [
              {
                name: DEFAULT_CLIENT_NAME,
                clientId: e.MASKINPORTEN_CLIENT_ID,
                signing: { key: e.SIGNING_KEY, kid: e.SIGNING_KID, alg: e.SIGNING_ALG },
              },
            ],
          },
    );
  };
  const read = all({ single, clients: ofForm() });
  return "errors" in read ? read : { value: read.value.clients };
}
