// AWS SDK failures -> SigningUnavailable with a clearly worded detail; the AWS error name goes to the audit log, its message nowhere.
import { SigningUnavailable } from "../problem/index.ts";

export type AwsService = "KMS" | "Secrets Manager";

/** What went wrong, per AWS error name, in words an operator can act on. `%s` is the resource. */
const REASONS: Readonly<Record<string, string>> = {
  ThrottlingException: "is throttling the broker's requests for %s; retry shortly",
  TooManyRequestsException: "is throttling the broker's requests for %s; retry shortly",
  DisabledException: "reports %s is disabled; enable it or point SIGNING_KEY at an enabled key",
  KMSInvalidStateException:
    "reports %s cannot be used in its current state (for example pending deletion); cancel the deletion or switch keys",
  NotFoundException: "cannot find %s (deleted, or another account or region)",
  ResourceNotFoundException: "cannot find %s (deleted, or another account or region)",
  AccessDeniedException: "denied the broker's role access to %s (IAM policy or key/resource policy)",
  KeyUnavailableException: "reports %s is temporarily unavailable",
  DependencyTimeoutException: "timed out using %s",
  KMSInternalException: "had an internal error using %s",
  InternalServiceError: "had an internal error reading %s",
  InternalFailure: "had an internal error using %s",
  ServiceUnavailable: "is unavailable for %s",
  DecryptionFailure:
    "could not decrypt %s (check the secret's KMS key and the broker's kms:Decrypt permission)",
  InvalidRequestException: "refused to read %s (it may be scheduled for deletion)",
  ExpiredTokenException:
    "rejected the AWS credentials used for %s as expired; refresh them (e.g. aws sso login)",
  UnrecognizedClientException:
    "does not recognise the AWS credentials used for %s (a wrong key, or a leftover AWS_SESSION_TOKEN)",
};

/** What the SDK throws when its credential chain (or an SSO token) yields nothing: AWS was never called. */
const NO_CREDENTIALS = new Set(["CredentialsProviderError", "TokenProviderError"]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
}

/** The AWS error name of an SDK service error (e.g. "DisabledException"), or undefined for anything else. */
export function awsErrorName(error: unknown): string | undefined {
  const shape = error as SdkErrorShape | null;
  if (typeof shape !== "object" || shape === null || shape.$fault === undefined) return undefined;
  return typeof shape.name === "string" ? shape.name : undefined;
}

/**
 * Maps a failed AWS call to `signing_unavailable`. A service error keeps its AWS name as `causeName`; no
 * credentials is said as such; any other error that never reached AWS (connection refused, DNS, timeout) is a
 * network error named by its code. The caller is told which key (`what`: "the signing key"), the audit record
 * also its id or ARN (`ref`).
 */
export function signingUnavailable(
  error: unknown,
  service: AwsService,
  what: string,
  ref: string,
): SigningUnavailable {
  const name = awsErrorName(error);
  let causeName = name;
  let reason = REASONS[name ?? ""] ?? "refused the request for %s";
  if (name === undefined) {
    const shape = (typeof error === "object" && error !== null ? error : {}) as SdkErrorShape;
    if (typeof shape.name === "string" && NO_CREDENTIALS.has(shape.name)) {
      return keyUnavailable(
        `${service} was not called for %s: no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID, run aws sso login, or give the function its role)`,
        what,
        ref,
        { cause: error, causeName: shape.name },
      );
    }
    const code = typeof shape.code === "string" ? shape.code : undefined;
    causeName = code ?? (typeof shape.name === "string" ? shape.name : "NetworkError");
    reason = "could not be reached for %s (network error)";
  }
  return keyUnavailable(`${service} ${reason}`, what, ref, { cause: error, causeName: causeName ?? "" });
}

/** `signing_unavailable` with `%s` in `message` standing for the key: its role for the caller, with its ARN for the audit. */
export function keyUnavailable(
  message: string,
  what: string,
  ref: string,
  options: { cause?: unknown; causeName?: string } = {},
): SigningUnavailable {
  return new SigningUnavailable(message.replace("%s", what), {
    ...options,
    auditReason: message.replace("%s", `${what} ${ref}`),
  });
}
