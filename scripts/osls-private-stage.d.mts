// Types of the osls plugin's exports, for the tests that call them.
export declare const ACCESS_LOG_FORMAT: string;

export interface SigningKeysBySource {
  kms: string[];
  secretsmanager: string[];
}
export declare function parseSigningKeys(value: unknown): SigningKeysBySource;
export declare function parsePseudonymKey(value: unknown): SigningKeysBySource | undefined;

export interface Callers {
  orgId?: unknown;
  principalArns?: unknown;
}
export declare function callerConditions(
  callers?: Callers,
): { StringEquals?: Record<string, string>; ArnLike?: Record<string, string[]> } | undefined;

export interface PrivateStageSettings {
  callers?: Callers;
  /** Each parameter whose placeholder value refuses `sls deploy`, with that value. */
  refuseDeployWith?: Record<string, string>;
  [setting: string]: unknown;
}

/** The slice of osls' Serverless object the deploy refusal reads. */
export interface ServerlessLike {
  service: {
    custom?: { privateStage?: PrivateStageSettings };
    provider: { compiledCloudFormationTemplate: unknown };
  };
  classes: { Error: new (message: string) => Error };
}

export default class PrivateStagePlugin {
  constructor(serverless: ServerlessLike);
  hooks: Record<string, () => unknown>;
  refusePlaceholders(): void;
  grantKeyAccess(): void;
}
