// The shapes the osls plugin's jobs read and change: its settings, the compiled template, osls' Serverless object.

/** `custom.privateStage` in serverless.yml, after osls has resolved its variables (values may be numbers). */
export interface PrivateStageSettings {
  /** The key(s) the broker signs with, as SIGNING_KEY spells them, comma-separated. */
  signingKeys?: unknown;
  /** The separate admin client's key (KEY_ADMIN_SIGNING_KEY); empty: none. */
  adminSigningKey?: unknown;
  /** Role logical id -> `sign`, `publicKey` or `admin`. */
  keyAccess?: Record<string, string>;
  pidPseudonymKey?: unknown;
  pidPseudonymKeyRole?: string | string[];
  callers?: Callers;
  throttle?: { rateLimit?: unknown; burstLimit?: unknown };
  logRetentionInDays?: unknown;
  /** Maps of param name -> its value for the stage: the params whose default (params.default) is a placeholder. */
  placeholders?: Record<string, unknown>[];
  [setting: string]: unknown;
}

export interface Callers {
  orgId?: unknown;
  principalArns?: unknown;
}

export interface SigningKeysBySource {
  kms: string[];
  secretsmanager: string[];
}

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export type Resources = Record<string, Resource>;

/** The slice of osls' Serverless object the plugin reads; tests pass only what the job under test needs. */
export interface ServerlessLike {
  service: {
    service?: string;
    custom?: { privateStage?: PrivateStageSettings };
    provider: { stage?: string; compiledCloudFormationTemplate: { Resources: Resources } };
    getAllFunctions?(): string[];
    getFunction?(name: string): { role?: unknown };
  };
  /** serverless.yml as written: `params.default` holds each placeholder. */
  configurationInput?: { params?: Record<string, Record<string, unknown> | undefined> };
  processedInput?: { commands: string[]; options?: Record<string, unknown> };
  getProvider?(name: "aws"): {
    naming: { getRoleLogicalId(): string; getLambdaLogicalId(name: string): string };
  };
  classes: { Error: new (message: string) => Error };
}
